"""The GRPC_UNARY runner: one unary call to a gRPC method of another server.

Settings name the server (`host`, `port`) and TLS: `tls`, with an optional
`tls_config` of CA, client certificate and key files and a server name
override. They also set a default deadline (`timeout_ms`), a message size
limit for both directions (`max_message_size`), a bearer token
(`auth_token`, sent as `authorization: Bearer ...`) and `use_reflection`.

Args name the method as `package.Service/Method`. The request is base64 of
the encoded request message, or JSON when `use_reflection` is set, in which
case the input type comes from the server's reflection service. The result
`GrpcUnaryResult` has code 0, the response bytes as `body` (with or without
reflection), and the initial and trailing metadata; values of binary
(`-bin`) keys are base64 text.

A call that ends with another status fails the job, classified as
jobworkerp does: DEADLINE_EXCEEDED and UNAVAILABLE are retryable
(ERROR_AND_RETRY), CANCELLED and ABORTED abort (ABORT), UNKNOWN is
OTHER_ERROR, and every other code is FATAL_ERROR.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import grpc
from google.protobuf import json_format

from jwp.errors import (
    AbortedRunnerError,
    FatalRunnerError,
    RetryableRunnerError,
    RunnerArgumentError,
    RunnerError,
)
from jwp.proto.jobworkerp.runner.grpc_unary_args_pb2 import GrpcUnaryArgs
from jwp.proto.jobworkerp.runner.grpc_unary_result_pb2 import GrpcUnaryResult
from jwp.proto.jobworkerp.runner.grpc_unary_runner_pb2 import GrpcUnaryRunnerSettings

from .base import Runner
from .grpc_reflection_client import MethodTypes, resolve_method
from .parsing import parse_args, parse_settings, require_field

logger = logging.getLogger(__name__)

RUNNER_NAME = "GRPC_UNARY"

_ERROR_OF_CODE: dict[grpc.StatusCode, type[RunnerError]] = {
    grpc.StatusCode.DEADLINE_EXCEEDED: RetryableRunnerError,
    grpc.StatusCode.UNAVAILABLE: RetryableRunnerError,
    grpc.StatusCode.CANCELLED: AbortedRunnerError,
    grpc.StatusCode.ABORTED: AbortedRunnerError,
    grpc.StatusCode.UNKNOWN: RunnerArgumentError,
}
"""Runner error of each failed status; codes not listed are FatalRunnerError."""

_METADATA_KEY = re.compile(r"^[0-9a-z_.-]+$")


class GrpcUnaryRunner(Runner):
    """Calls unary methods on the server of the worker's `GrpcUnaryRunnerSettings`."""

    def __init__(self) -> None:
        self._settings = GrpcUnaryRunnerSettings()
        self._channel: grpc.aio.Channel | None = None
        self._method_types: dict[str, MethodTypes] = {}

    async def load(self, settings: bytes) -> None:
        """Check the settings, read the TLS files and open the channel.

        Raises:
            RunnerArgumentError: Invalid settings, or a TLS file that cannot be read.
        """
        self._settings = parse_settings(GrpcUnaryRunnerSettings, settings, RUNNER_NAME)
        host = require_field(
            self._settings.host, "host", RUNNER_NAME, 'set the server\'s host, e.g. "127.0.0.1"'
        )
        if not 0 < self._settings.port < 65536:
            raise RunnerArgumentError(
                f"{RUNNER_NAME}: port {self._settings.port} is not a TCP port; use 1 to 65535"
            )
        target = (
            f"[{host}]:{self._settings.port}" if ":" in host else f"{host}:{self._settings.port}"
        )
        options = _channel_options(self._settings)
        if self._settings.tls:
            credentials = await _tls_credentials(self._settings)
            self._channel = grpc.aio.secure_channel(target, credentials, options=options)
        else:
            self._channel = grpc.aio.insecure_channel(target, options=options)
        logger.debug("GRPC_UNARY channel to %s (tls %s)", target, self._settings.tls)

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close(grace=None)
            self._channel = None

    async def run(self, args: bytes, metadata: Mapping[str, str]) -> bytes:
        """Make the call and return an encoded `GrpcUnaryResult`.

        Raises:
            RunnerArgumentError: Invalid args, or the call failed with UNKNOWN.
            RetryableRunnerError: DEADLINE_EXCEEDED or UNAVAILABLE.
            AbortedRunnerError: CANCELLED or ABORTED.
            FatalRunnerError: Any other failed status.
        """
        if self._channel is None:
            raise RuntimeError("GrpcUnaryRunner.run called before load")
        call_args = parse_args(GrpcUnaryArgs, args, RUNNER_NAME)
        service, method = _split_method(call_args.method)
        path = f"/{service}/{method}"
        call_metadata = self._metadata(call_args)
        timeout_s = self._timeout_s(call_args)

        if self._settings.use_reflection:
            request = await self._request_from_json(service, method, call_args, call_metadata)
        else:
            request = _request_from_base64(call_args.request)

        # No serializers: the request and the response stay bytes.
        multicallable = self._channel.unary_unary(
            path, request_serializer=None, response_deserializer=None
        )
        call = multicallable(request, metadata=call_metadata, timeout=timeout_s)
        try:
            body = await call
            initial = await call.initial_metadata()
            trailing = await call.trailing_metadata()
        except grpc.aio.AioRpcError as error:
            raise _call_error(path, error) from None
        except asyncio.CancelledError:
            call.cancel()  # the job was stopped, so the server gets CANCELLED
            raise

        result = GrpcUnaryResult(code=grpc.StatusCode.OK.value[0], body=body)
        for key, value in (*(initial or ()), *(trailing or ())):
            result.metadata[key] = _metadata_text(key, value)
        return result.SerializeToString()

    def _metadata(self, call_args: GrpcUnaryArgs) -> list[tuple[str, str | bytes]]:
        metadata: list[tuple[str, str | bytes]] = []
        if self._settings.HasField("auth_token") and self._settings.auth_token:
            metadata.append(("authorization", f"Bearer {self._settings.auth_token}"))
        for key, value in sorted(call_args.metadata.items()):
            metadata.append(_metadata_entry(key, value))
        return metadata

    def _timeout_s(self, call_args: GrpcUnaryArgs) -> float | None:
        if call_args.timeout > 0:
            return call_args.timeout / 1000
        if self._settings.HasField("timeout_ms") and self._settings.timeout_ms > 0:
            return self._settings.timeout_ms / 1000
        return None

    async def _request_from_json(
        self,
        service: str,
        method: str,
        call_args: GrpcUnaryArgs,
        metadata: Sequence[tuple[str, str | bytes]],
    ) -> bytes:
        assert self._channel is not None
        key = f"{service}/{method}"
        types = self._method_types.get(key)
        if types is None:
            types = await resolve_method(
                self._channel,
                service,
                method,
                metadata=metadata,
                timeout_s=self._timeout_s(call_args),
            )
            self._method_types[key] = types
        message = types.input_type()
        try:
            json_format.Parse(call_args.request or "{}", message)
        except json_format.ParseError as error:
            raise RunnerArgumentError(
                f"{RUNNER_NAME}: request is not valid JSON for "
                f"{types.input_type.DESCRIPTOR.full_name}: {error}"
            ) from None
        return message.SerializeToString()


def _split_method(text: str) -> tuple[str, str]:
    service, _, method = text.strip().lstrip("/").partition("/")
    if not service or not method or "/" in method:
        raise RunnerArgumentError(
            f"{RUNNER_NAME}: method {text!r} is not of the form package.Service/Method"
        )
    return service, method


def _request_from_base64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as error:
        raise RunnerArgumentError(
            f"{RUNNER_NAME}: request is not valid base64 ({error}); send the encoded request "
            "message as base64, or set use_reflection to send JSON"
        ) from None


def _call_error(path: str, error: grpc.aio.AioRpcError) -> RunnerError:
    code = error.code()
    error_class = _ERROR_OF_CODE.get(code, FatalRunnerError)
    logger.debug("GRPC_UNARY %s failed with %s", path, code.name)
    return error_class(
        f"gRPC call {path} failed with {code.name}: {error.details() or 'no detail'}"
    )


def _metadata_entry(key: str, value: str) -> tuple[str, str | bytes]:
    """Check one metadata entry of the args; a `-bin` key's base64 value becomes bytes."""
    name = key.lower()
    if not _METADATA_KEY.match(name) or name.startswith("grpc-"):
        raise RunnerArgumentError(
            f"{RUNNER_NAME}: metadata key {key!r} is invalid; use letters, digits, '-', '_' "
            "and '.', not starting with 'grpc-'"
        )
    if name.endswith("-bin"):
        try:
            return name, base64.b64decode(value, validate=True)
        except binascii.Error:
            raise RunnerArgumentError(
                f"{RUNNER_NAME}: metadata {key!r} is a binary key, so its value must be base64"
            ) from None
    if not all(" " <= character <= "~" for character in value):
        raise RunnerArgumentError(
            f"{RUNNER_NAME}: metadata {key!r} has a value with characters other than printable "
            "ASCII; send it base64-encoded under a key ending in '-bin'"
        )
    return name, value


def _metadata_text(key: str, value: str | bytes) -> str:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def _channel_options(settings: GrpcUnaryRunnerSettings) -> list[tuple[str, int | str]]:
    options: list[tuple[str, int | str]] = []
    if settings.HasField("max_message_size") and settings.max_message_size > 0:
        options.append(("grpc.max_send_message_length", settings.max_message_size))
        options.append(("grpc.max_receive_message_length", settings.max_message_size))
    if settings.HasField("tls_config") and settings.tls_config.server_name_override:
        options.append(("grpc.ssl_target_name_override", settings.tls_config.server_name_override))
    return options


async def _tls_credentials(settings: GrpcUnaryRunnerSettings) -> grpc.ChannelCredentials:
    config = settings.tls_config
    if bool(config.client_cert_path) != bool(config.client_key_path):
        raise RunnerArgumentError(
            f"{RUNNER_NAME}: tls_config sets only one of client_cert_path and client_key_path; "
            "set both for client authentication, or neither"
        )
    root = await _read_file(config.ca_cert_path, "tls_config.ca_cert_path")
    key = await _read_file(config.client_key_path, "tls_config.client_key_path")
    chain = await _read_file(config.client_cert_path, "tls_config.client_cert_path")
    return grpc.ssl_channel_credentials(
        root_certificates=root, private_key=key, certificate_chain=chain
    )


async def _read_file(path: str, field: str) -> bytes | None:
    if not path:
        return None
    try:
        return await asyncio.to_thread(Path(path).read_bytes)
    except OSError as error:
        raise RunnerArgumentError(
            f"{RUNNER_NAME}: cannot read {field} {path!r}: {error.strerror or error}"
        ) from None
