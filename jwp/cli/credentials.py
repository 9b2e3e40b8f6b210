"""Client credentials: the auth token header and TLS credentials.

Both come from the environment, so the CLI and the TUI (or any Python
client) connect the same way:

| variable | use |
| --- | --- |
| JWP_AUTH_TOKEN | sent in header `jobworkerp-auth` on every call |
| JWP_TLS_CA_FILE | PEM CA bundle that verifies an `https://` server; unset uses the system's |
| JWP_TLS_CLIENT_CERT_FILE, JWP_TLS_CLIENT_KEY_FILE | client certificate for mutual TLS |
"""

from __future__ import annotations

import collections
import os
import ssl
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import grpc

from .errors import InputError

AUTH_HEADER = "jobworkerp-auth"
AUTH_TOKEN_VARIABLE = "JWP_AUTH_TOKEN"
CA_FILE_VARIABLE = "JWP_TLS_CA_FILE"
CLIENT_CERT_VARIABLE = "JWP_TLS_CLIENT_CERT_FILE"
CLIENT_KEY_VARIABLE = "JWP_TLS_CLIENT_KEY_FILE"


def auth_metadata(environ: Mapping[str, str] | None = None) -> tuple[tuple[str, str], ...]:
    """Return the metadata to send on every call: the auth header when JWP_AUTH_TOKEN is set."""
    token = (os.environ if environ is None else environ).get(AUTH_TOKEN_VARIABLE, "")
    return ((AUTH_HEADER, token),) if token else ()


def channel_credentials(environ: Mapping[str, str] | None = None) -> grpc.ChannelCredentials:
    """Build TLS credentials from JWP_TLS_CA_FILE and the client certificate variables.

    Raises:
        InputError: A file cannot be read, or only one of the client certificate and key is set.
    """
    env = os.environ if environ is None else environ
    ca_file = env.get(CA_FILE_VARIABLE)
    roots = _read(ca_file, CA_FILE_VARIABLE) if ca_file else system_root_certificates()
    cert_file, key_file = env.get(CLIENT_CERT_VARIABLE), env.get(CLIENT_KEY_VARIABLE)
    if bool(cert_file) != bool(key_file):
        raise InputError(
            f"{CLIENT_CERT_VARIABLE} and {CLIENT_KEY_VARIABLE} must be set together; set both "
            "for a client certificate or neither"
        )
    certificate = _read(cert_file, CLIENT_CERT_VARIABLE) if cert_file else None
    key = _read(key_file, CLIENT_KEY_VARIABLE) if key_file else None
    return grpc.ssl_channel_credentials(roots, private_key=key, certificate_chain=certificate)


def system_root_certificates() -> bytes | None:
    """Return the CA bundle that OpenSSL uses on this system, or None for grpc's own roots.

    SSL_CERT_FILE, when set, names the bundle.
    """
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and Path(candidate).is_file():
            return Path(candidate).read_bytes()
    return None


def _read(path: str, variable: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise InputError(
            f"cannot read {variable} {path!r}: {error.strerror or error}; fix the path"
        ) from None


class _CallDetails(
    collections.namedtuple(
        "_CallDetails",
        ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression"),
    ),
    grpc.ClientCallDetails,
):
    pass


class AuthMetadataInterceptor(
    grpc.UnaryUnaryClientInterceptor,  # type: ignore[type-arg]
    grpc.UnaryStreamClientInterceptor,  # type: ignore[type-arg]
):
    """Add fixed metadata (the auth header) to every unary and server-streaming call."""

    def __init__(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self._metadata = metadata

    def _details(self, details: grpc.ClientCallDetails) -> _CallDetails:
        metadata = [*(details.metadata or ()), *self._metadata]
        return _CallDetails(
            details.method,
            details.timeout,
            metadata,
            details.credentials,
            getattr(details, "wait_for_ready", None),
            getattr(details, "compression", None),
        )

    def intercept_unary_unary(
        self, continuation: Callable[..., Any], client_call_details: Any, request: Any
    ) -> Any:
        return continuation(self._details(client_call_details), request)

    def intercept_unary_stream(
        self, continuation: Callable[..., Any], client_call_details: Any, request: Any
    ) -> Any:
        return continuation(self._details(client_call_details), request)


def with_auth(channel: grpc.Channel, environ: Mapping[str, str] | None = None) -> grpc.Channel:
    """Wrap `channel` so every call sends the auth header; without a token, return it unchanged."""
    metadata = auth_metadata(environ)
    if not metadata:
        return channel
    return grpc.intercept_channel(channel, AuthMetadataInterceptor(metadata))
