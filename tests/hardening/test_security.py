"""AUTH_TOKEN on every RPC, TLS and mutual TLS, and the CLI's side of both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2
from typer.testing import CliRunner

from jwp.cli.credentials import auth_metadata
from jwp.cli.main import app
from jwp.config import Settings
from jwp.errors import FailedPreconditionError
from jwp.proto.jobworkerp.service import common_pb2 as service_common_pb2
from jwp.proto.jobworkerp.service import worker_pb2_grpc
from jwp.server.app import JwpServer
from tests.hardening.rpcs import RPCS, Rpc, call_raw
from tests.support.servers import ThreadedServer, make_settings, running_server, threaded_server
from tests.support.tls import Certificates, make_certificates

TOKEN = "s3cret-token-for-tests"
WRONG_TOKEN = "wrong-guess-0123"
COUNT = "/jobworkerp.service.WorkerService/Count"
HEALTH_CHECK = "/grpc.health.v1.Health/Check"


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    settings = make_settings(tmp_path_factory.mktemp("auth"), auth_token=TOKEN)
    with threaded_server(settings) as running:
        yield running


@pytest.fixture(scope="module")
def auth_channel(auth_server: ThreadedServer) -> Iterator[grpc.Channel]:
    channel = grpc.insecure_channel(auth_server.address)
    try:
        yield channel
    finally:
        channel.close()


def count(channel: grpc.Channel, metadata: tuple[tuple[str, str], ...] = ()) -> int:
    stub = worker_pb2_grpc.WorkerServiceStub(channel)
    response = stub.Count(service_common_pb2.CountCondition(), metadata=metadata, timeout=10)
    return response.total


def test_auth_missing_header_rejected(auth_channel: grpc.Channel) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        count(auth_channel)

    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "missing header jobworkerp-auth" in (raised.value.details() or "")


def test_auth_wrong_token_rejected(auth_channel: grpc.Channel) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        count(auth_channel, (("jobworkerp-auth", WRONG_TOKEN),))

    details = raised.value.details() or ""
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "invalid token in header jobworkerp-auth" in details
    assert TOKEN not in details
    assert WRONG_TOKEN not in details


def test_auth_right_token_passes(auth_channel: grpc.Channel) -> None:
    assert count(auth_channel, (("jobworkerp-auth", TOKEN),)) == 0


def test_auth_token_prefix_rejected(auth_channel: grpc.Channel) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        count(auth_channel, (("jobworkerp-auth", TOKEN[:-1]),))

    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize(
    "rpc",
    [rpc for rpc in RPCS if not rpc.path.startswith("/grpc.health.v1.")],
    ids=lambda rpc: rpc.path.split(".")[-1],
)
def test_auth_guards_every_rpc(auth_channel: grpc.Channel, rpc: Rpc) -> None:
    # Undecodable bytes: authentication must come before decoding.
    code, details = call_raw(auth_channel, rpc, b"\xff\xff\xff")

    assert code == grpc.StatusCode.UNAUTHENTICATED, f"{rpc.path}: {code.name} {details}"
    assert "jobworkerp-auth" in details


def test_health_needs_no_token(auth_channel: grpc.Channel) -> None:
    check = auth_channel.unary_unary(
        HEALTH_CHECK,
        request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
        response_deserializer=health_pb2.HealthCheckResponse.FromString,
    )

    response = check(health_pb2.HealthCheckRequest(), timeout=10)

    assert response.status == health_pb2.HealthCheckResponse.SERVING


def test_auth_metadata_from_environment() -> None:
    assert auth_metadata({"JWP_AUTH_TOKEN": "abc"}) == (("jobworkerp-auth", "abc"),)
    assert auth_metadata({}) == ()


def run_cli(address: str, env: dict[str, str | None], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--address", address, *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_cli_sends_auth_token(auth_server: ThreadedServer) -> None:
    code, stdout, stderr = run_cli(
        auth_server.address, {"JWP_AUTH_TOKEN": TOKEN}, "worker", "count"
    )

    assert code == 0, stderr
    assert stdout.strip().endswith("0")


def test_cli_without_token_fails(auth_server: ThreadedServer) -> None:
    code, _, stderr = run_cli(auth_server.address, {"JWP_AUTH_TOKEN": None}, "worker", "count")

    assert code == 1
    assert "UNAUTHENTICATED" in stderr
    assert "missing header jobworkerp-auth" in stderr


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("tls"))


def tls_settings(tmp_path: Path, certificates: Certificates, *, mutual: bool = False) -> Settings:
    extra = {"jwp_tls_client_ca_file": certificates.ca} if mutual else {}
    return make_settings(
        tmp_path,
        jwp_tls_cert_file=certificates.server_cert,
        jwp_tls_key_file=certificates.server_key,
        **extra,
    )


async def count_over(channel: grpc.aio.Channel) -> int:
    stub = worker_pb2_grpc.WorkerServiceStub(channel)
    response = await stub.Count(service_common_pb2.CountCondition(), timeout=10)
    return response.total


async def test_tls_serves_verified_client(tmp_path: Path, certificates: Certificates) -> None:
    settings = tls_settings(tmp_path, certificates)
    async with running_server(settings) as server:
        credentials = grpc.ssl_channel_credentials(certificates.ca.read_bytes())
        async with grpc.aio.secure_channel(f"localhost:{server.port}", credentials) as channel:
            assert await count_over(channel) == 0


async def test_tls_rejects_plaintext_client(tmp_path: Path, certificates: Certificates) -> None:
    settings = tls_settings(tmp_path, certificates)
    async with running_server(settings) as server:
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await count_over(channel)
        await channel.close()

    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_mtls_requires_client_cert(tmp_path: Path, certificates: Certificates) -> None:
    settings = tls_settings(tmp_path, certificates, mutual=True)
    ca = certificates.ca.read_bytes()
    async with running_server(settings) as server:
        address = f"localhost:{server.port}"
        anonymous = grpc.ssl_channel_credentials(ca)
        async with grpc.aio.secure_channel(address, anonymous) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                await count_over(channel)
        identified = grpc.ssl_channel_credentials(
            ca,
            private_key=certificates.client_key.read_bytes(),
            certificate_chain=certificates.client_cert.read_bytes(),
        )
        async with grpc.aio.secure_channel(address, identified) as channel:
            total = await count_over(channel)

    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    assert total == 0


def test_cli_https_with_ca_file(tmp_path: Path, certificates: Certificates) -> None:
    settings = tls_settings(tmp_path, certificates, mutual=True)
    env: dict[str, str | None] = {
        "JWP_TLS_CA_FILE": str(certificates.ca),
        "JWP_TLS_CLIENT_CERT_FILE": str(certificates.client_cert),
        "JWP_TLS_CLIENT_KEY_FILE": str(certificates.client_key),
    }
    with threaded_server(settings) as running:
        address = f"https://localhost:{running.server.port}"
        code, stdout, stderr = run_cli(address, env, "worker", "count")
        plain_code, _, plain_stderr = run_cli(
            f"localhost:{running.server.port}", env, "worker", "count"
        )

    assert code == 0, stderr
    assert stdout.strip().endswith("0")
    assert plain_code == 3, plain_stderr


def test_cli_missing_ca_file_is_usage_error(tmp_path: Path) -> None:
    env: dict[str, str | None] = {"JWP_TLS_CA_FILE": str(tmp_path / "missing.pem")}

    code, _, stderr = run_cli("https://localhost:1", env, "worker", "count")

    assert code == 2
    assert "cannot read JWP_TLS_CA_FILE" in stderr


async def test_unreadable_cert_names_setting(tmp_path: Path, certificates: Certificates) -> None:
    settings = make_settings(
        tmp_path,
        jwp_tls_cert_file=tmp_path / "missing.pem",
        jwp_tls_key_file=certificates.server_key,
    )
    server = JwpServer(settings)

    with pytest.raises(FailedPreconditionError) as raised:
        await server.start()

    assert "cannot read JWP_TLS_CERT_FILE" in str(raised.value)


def test_tls_key_without_cert_rejected(tmp_path: Path, certificates: Certificates) -> None:
    with pytest.raises(ValueError, match="must be set together"):
        make_settings(tmp_path, jwp_tls_key_file=certificates.server_key)
