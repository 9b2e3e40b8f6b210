"""The gRPC server's transport: message and frame limits, TLS, and interceptors."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import grpc

from jwp.config import Settings
from jwp.errors import FailedPreconditionError

from .auth import AuthInterceptor
from .decoding import RequestDecodingInterceptor

logger = logging.getLogger(__name__)


def server_options(settings: Settings) -> list[tuple[str, int]]:
    """Return the grpc channel arguments of the server: message size and HTTP/2 frame size."""
    options = [
        ("grpc.max_send_message_length", settings.jwp_max_message_bytes),
        ("grpc.max_receive_message_length", settings.jwp_max_message_bytes),
        # grpcio binds with SO_REUSEPORT by default, so a second server on a
        # busy port would start and take a share of the connections; without
        # it the second bind fails and says the port is in use.
        ("grpc.so_reuseport", 0),
    ]
    if settings.max_frame_size is not None:
        options.append(("grpc.http2.max_frame_size", settings.max_frame_size))
    return options


def server_interceptors(
    settings: Settings, extra: list[grpc.aio.ServerInterceptor[Any, Any]] | None = None
) -> list[grpc.aio.ServerInterceptor[Any, Any]]:
    """Return the interceptors in call order: authentication, then request decoding, then `extra`.

    Authentication comes first, so an unauthenticated caller gets
    UNAUTHENTICATED whatever bytes it sends.
    """
    interceptors: list[grpc.aio.ServerInterceptor[Any, Any]] = []
    if settings.auth_token is not None:
        interceptors.append(AuthInterceptor(settings.auth_token.get_secret_value()))
    interceptors.append(RequestDecodingInterceptor())
    interceptors.extend(extra or [])
    return interceptors


def tls_enabled(settings: Settings) -> bool:
    return settings.jwp_tls_cert_file is not None


def server_credentials(settings: Settings) -> grpc.ServerCredentials:
    """Build TLS credentials from JWP_TLS_CERT_FILE / KEY_FILE (and CLIENT_CA_FILE for mTLS).

    Raises:
        FailedPreconditionError: A file cannot be read.
    """
    assert settings.jwp_tls_cert_file is not None and settings.jwp_tls_key_file is not None
    certificate = read_pem(settings.jwp_tls_cert_file, "JWP_TLS_CERT_FILE")
    key = read_pem(settings.jwp_tls_key_file, "JWP_TLS_KEY_FILE")
    client_ca = None
    if settings.jwp_tls_client_ca_file is not None:
        client_ca = read_pem(settings.jwp_tls_client_ca_file, "JWP_TLS_CLIENT_CA_FILE")
    return grpc.ssl_server_credentials(
        [(key, certificate)],
        root_certificates=client_ca,
        require_client_auth=client_ca is not None,
    )


def bind(server: grpc.aio.Server, settings: Settings) -> int:
    """Listen on GRPC_ADDR, with TLS when it is configured; return the bound port."""
    if tls_enabled(settings):
        port = server.add_secure_port(settings.grpc_addr, server_credentials(settings))
        mode = "TLS with client certificates" if settings.jwp_tls_client_ca_file else "TLS"
        logger.info("gRPC uses %s (certificate %s)", mode, settings.jwp_tls_cert_file)
        return port
    return server.add_insecure_port(settings.grpc_addr)


def read_pem(path: Path, setting: str) -> bytes:
    """Read a PEM file named by a setting, failing with a message that names the setting."""
    try:
        return path.read_bytes()
    except OSError as error:
        raise FailedPreconditionError(
            f"cannot read {setting} {str(path)!r}: {error.strerror or error}; fix the path "
            "or the file's permissions"
        ) from None
