"""Tests of the GRPC_UNARY runner against a gRPC server on loopback started by each test."""

from __future__ import annotations

import asyncio
import base64
import datetime
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from jwp.errors import (
    AbortedRunnerError,
    FatalRunnerError,
    RetryableRunnerError,
    RunnerArgumentError,
)
from jwp.proto.jobworkerp.data import common_pb2
from jwp.proto.jobworkerp.runner.grpc_unary_args_pb2 import GrpcUnaryArgs
from jwp.proto.jobworkerp.runner.grpc_unary_result_pb2 import GrpcUnaryResult
from jwp.proto.jobworkerp.runner.grpc_unary_runner_pb2 import GrpcUnaryRunnerSettings
from jwp.server.runners.grpc_unary import GrpcUnaryRunner
from tests.conftest import Stubs
from tests.support.jobs import output_text, run_job

GRPC_UNARY = common_pb2.RunnerType.GRPC_UNARY
TOKEN = "grpc-test-token"


async def echo(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
    """Return the request; report the authorization, x-test and x-data-bin metadata back."""
    received = dict(context.invocation_metadata() or ())
    await context.send_initial_metadata(
        (
            ("seen-authorization", str(received.get("authorization", ""))),
            ("seen-x-test", str(received.get("x-test", ""))),
            ("seen-data-bin", received.get("x-data-bin", b"")),
        )
    )
    context.set_trailing_metadata((("trailer-bin", b"\x00\x01"),))
    return request


async def slow(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


async def fail(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
    """Fail with the status code named by the request bytes."""
    await context.abort(grpc.StatusCode[request.decode()], f"failing with {request.decode()}")
    raise AssertionError("unreachable")


PROBE = grpc.method_handlers_generic_handler(
    "test.Probe",
    {
        "Echo": grpc.unary_unary_rpc_method_handler(echo),
        "Slow": grpc.unary_unary_rpc_method_handler(slow),
        "Fail": grpc.unary_unary_rpc_method_handler(fail),
    },
)


@dataclass
class TlsFiles:
    cert: Path
    key: Path


def make_self_signed_cert(folder: Path) -> TlsFiles:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    files = TlsFiles(folder / "cert.pem", folder / "key.pem")
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


async def start_server(
    tls: TlsFiles | None = None, with_reflection: bool = True
) -> tuple[grpc.aio.Server, int]:
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((PROBE,))
    health_servicer = HealthServicer()
    await health_servicer.set("jwp.test", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    if with_reflection:
        reflection.enable_server_reflection((health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    if tls is None:
        port = server.add_insecure_port("127.0.0.1:0")
    else:
        credentials = grpc.ssl_server_credentials([(tls.key.read_bytes(), tls.cert.read_bytes())])
        port = server.add_secure_port("127.0.0.1:0", credentials)
    await server.start()
    return server, port


@pytest.fixture
async def grpc_port() -> AsyncIterator[int]:
    server, port = await start_server()
    yield port
    await server.stop(grace=None)


def settings(port: int, **fields: Any) -> bytes:
    return GrpcUnaryRunnerSettings(host="127.0.0.1", port=port, **fields).SerializeToString()


def call_args(method: str, request: bytes | str = b"", **fields: Any) -> bytes:
    text = request if isinstance(request, str) else base64.b64encode(request).decode()
    return GrpcUnaryArgs(method=method, request=text, **fields).SerializeToString()


async def call(runner_settings: bytes, args: bytes) -> GrpcUnaryResult:
    runner = GrpcUnaryRunner()
    await runner.load(runner_settings)
    try:
        return GrpcUnaryResult.FromString(await runner.run(args, {}))
    finally:
        await runner.close()


async def test_raw_call_with_metadata_and_token(grpc_port: int) -> None:
    result = await call(
        settings(grpc_port, auth_token=TOKEN),
        call_args(
            "test.Probe/Echo",
            b"\x01\x02payload",
            metadata={"X-Test": "yes", "x-data-bin": base64.b64encode(b"\xff").decode()},
        ),
    )

    assert result.code == 0
    assert result.body == b"\x01\x02payload"
    assert result.metadata["seen-authorization"] == f"Bearer {TOKEN}"
    assert result.metadata["seen-x-test"] == "yes"
    assert result.metadata["trailer-bin"] == base64.b64encode(b"\x00\x01").decode()
    assert result.metadata["seen-data-bin"] == base64.b64encode(b"\xff").decode()


async def test_reflection_json_request(grpc_port: int) -> None:
    result = await call(
        settings(grpc_port, use_reflection=True),
        call_args("grpc.health.v1.Health/Check", '{"service": "jwp.test"}'),
    )

    response = health_pb2.HealthCheckResponse.FromString(result.body)
    assert response.status == health_pb2.HealthCheckResponse.SERVING


async def test_reflection_unknown_service(grpc_port: int) -> None:
    with pytest.raises(RunnerArgumentError, match=r"reflection service does not know 'no\.Such'"):
        await call(settings(grpc_port, use_reflection=True), call_args("no.Such/Call", "{}"))


async def test_reflection_unknown_method(grpc_port: int) -> None:
    with pytest.raises(RunnerArgumentError, match="has no method 'Nope'"):
        await call(
            settings(grpc_port, use_reflection=True),
            call_args("grpc.health.v1.Health/Nope", "{}"),
        )


async def test_reflection_invalid_json(grpc_port: int) -> None:
    with pytest.raises(RunnerArgumentError, match=r"not valid JSON for grpc\.health\.v1"):
        await call(
            settings(grpc_port, use_reflection=True),
            call_args("grpc.health.v1.Health/Check", '{"nope": 1}'),
        )


async def test_server_without_reflection() -> None:
    server, port = await start_server(with_reflection=False)
    try:
        with pytest.raises(RunnerArgumentError, match="does not offer the reflection service"):
            await call(
                settings(port, use_reflection=True), call_args("grpc.health.v1.Health/Check", "{}")
            )
    finally:
        await server.stop(grace=None)


async def test_tls_with_server_name_override(tmp_path: Path) -> None:
    tls = make_self_signed_cert(tmp_path)
    server, port = await start_server(tls)
    tls_config = GrpcUnaryRunnerSettings.TlsConfig(
        ca_cert_path=str(tls.cert), server_name_override="localhost"
    )
    try:
        result = await call(
            settings(port, tls=True, tls_config=tls_config, use_reflection=True),
            call_args("grpc.health.v1.Health/Check", "{}"),
        )
        with pytest.raises(RetryableRunnerError, match="UNAVAILABLE"):
            await call(settings(port), call_args("test.Probe/Echo", b"x"))
    finally:
        await server.stop(grace=None)

    assert health_pb2.HealthCheckResponse.FromString(result.body).status == 1


@pytest.mark.parametrize(
    ("code", "error_class"),
    [
        ("UNAVAILABLE", RetryableRunnerError),
        ("ABORTED", AbortedRunnerError),
        ("CANCELLED", AbortedRunnerError),
        ("UNKNOWN", RunnerArgumentError),
        ("NOT_FOUND", FatalRunnerError),
        ("PERMISSION_DENIED", FatalRunnerError),
    ],
)
async def test_status_codes_mapped(grpc_port: int, code: str, error_class: type) -> None:
    with pytest.raises(error_class, match=f"failed with {code}: failing with {code}"):
        await call(settings(grpc_port), call_args("test.Probe/Fail", code.encode()))


async def test_deadline_from_args_then_settings(grpc_port: int) -> None:
    with pytest.raises(RetryableRunnerError, match="DEADLINE_EXCEEDED"):
        await call(settings(grpc_port), call_args("test.Probe/Slow", timeout=100))
    with pytest.raises(RetryableRunnerError, match="DEADLINE_EXCEEDED"):
        await call(settings(grpc_port, timeout_ms=100), call_args("test.Probe/Slow"))


async def test_max_message_size(grpc_port: int) -> None:
    with pytest.raises(FatalRunnerError, match="RESOURCE_EXHAUSTED"):
        await call(
            settings(grpc_port, max_message_size=1000), call_args("test.Probe/Echo", b"x" * 5000)
        )


async def test_connection_refused_is_retryable() -> None:
    server, port = await start_server()
    await server.stop(grace=None)

    with pytest.raises(RetryableRunnerError, match="UNAVAILABLE"):
        await call(settings(port), call_args("test.Probe/Echo", b"x", timeout=2000))


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (GrpcUnaryRunnerSettings(port=1), "host is empty"),
        (GrpcUnaryRunnerSettings(host="h", port=0), "port 0 is not a TCP port"),
        (GrpcUnaryRunnerSettings(host="h", port=70000), "port 70000 is not a TCP port"),
        (
            GrpcUnaryRunnerSettings(
                host="h",
                port=1,
                tls=True,
                tls_config=GrpcUnaryRunnerSettings.TlsConfig(ca_cert_path="/no/such/ca.pem"),
            ),
            "cannot read tls_config.ca_cert_path",
        ),
        (
            GrpcUnaryRunnerSettings(
                host="h",
                port=1,
                tls=True,
                tls_config=GrpcUnaryRunnerSettings.TlsConfig(client_cert_path="/c.pem"),
            ),
            "only one of client_cert_path and client_key_path",
        ),
    ],
)
async def test_bad_settings_rejected(message: GrpcUnaryRunnerSettings, error: str) -> None:
    runner = GrpcUnaryRunner()
    with pytest.raises(RunnerArgumentError, match=error):
        await runner.load(message.SerializeToString())


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (call_args("NoSlash"), "not of the form package.Service/Method"),
        (call_args("a/b/c"), "not of the form"),
        (GrpcUnaryArgs(method="test.Probe/Echo", request="!!").SerializeToString(), "base64"),
        (call_args("test.Probe/Echo", metadata={"bad key": "x"}), "metadata key 'bad key'"),
        (call_args("test.Probe/Echo", metadata={"grpc-timeout": "1"}), "not starting with"),
        (call_args("test.Probe/Echo", metadata={"x": "caf\u00e9"}), "printable ASCII"),
        (call_args("test.Probe/Echo", metadata={"x-bin": "!!"}), "must be base64"),
    ],
)
async def test_bad_args_rejected(grpc_port: int, args: bytes, error: str) -> None:
    with pytest.raises(RunnerArgumentError, match=error):
        await call(settings(grpc_port), args)


async def test_job_calls_method(stubs: Stubs, grpc_port: int) -> None:
    result = await run_job(
        stubs,
        GRPC_UNARY,
        settings(grpc_port, use_reflection=True),
        call_args("grpc.health.v1.Health/Check", '{"service": "jwp.test"}'),
    )

    assert result.status == common_pb2.SUCCESS
    body = GrpcUnaryResult.FromString(result.output.items).body
    assert health_pb2.HealthCheckResponse.FromString(body).status == 1


async def test_job_failed_status_is_fatal(stubs: Stubs, grpc_port: int) -> None:
    result = await run_job(
        stubs, GRPC_UNARY, settings(grpc_port), call_args("test.Probe/Fail", b"NOT_FOUND")
    )

    assert result.status == common_pb2.FATAL_ERROR
    assert "failed with NOT_FOUND" in output_text(result)


async def test_job_timeout_ends_in_max_retry(stubs: Stubs, grpc_port: int) -> None:
    result = await run_job(
        stubs, GRPC_UNARY, settings(grpc_port), call_args("test.Probe/Slow"), timeout_ms=300
    )

    assert result.status == common_pb2.MAX_RETRY
    assert "timed out after 300 ms" in output_text(result)
