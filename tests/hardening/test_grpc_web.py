"""gRPC-Web over HTTP/1.1: unary and server-streaming calls, auth, errors."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest

from jwp.proto.jobworkerp.data import runner_pb2
from jwp.proto.jobworkerp.service import common_pb2 as service_common_pb2
from jwp.server.app import JwpServer
from tests.support.servers import make_settings, running_server

TOKEN = "web-token-for-tests"
AUTH = {"jobworkerp-auth": TOKEN}


@dataclass
class WebResponse:
    """A parsed gRPC-Web response: its messages and its status."""

    http_status: int
    messages: list[bytes]
    grpc_status: int
    grpc_message: str


def frame(message: bytes) -> bytes:
    return struct.pack(">BI", 0, len(message)) + message


def parse(response: httpx.Response) -> WebResponse:
    messages: list[bytes] = []
    trailers: dict[str, str] = {
        key: value for key, value in response.headers.items() if key.startswith("grpc-")
    }
    body = response.content
    position = 0
    while position < len(body):
        flags, length = struct.unpack(">BI", body[position : position + 5])
        payload = body[position + 5 : position + 5 + length]
        position += 5 + length
        if flags & 0x80:
            for line in payload.decode("ascii").splitlines():
                key, _, value = line.partition(":")
                trailers[key.strip().lower()] = value.strip()
        else:
            messages.append(payload)
    return WebResponse(
        http_status=response.status_code,
        messages=messages,
        grpc_status=int(trailers["grpc-status"]),
        grpc_message=unquote(trailers.get("grpc-message", "")),
    )


@pytest.fixture
async def web_server(tmp_path: Path) -> AsyncIterator[JwpServer]:
    settings = make_settings(
        tmp_path, use_grpc_web=True, jwp_grpc_web_addr="127.0.0.1:0", auth_token=TOKEN
    )
    async with running_server(settings) as server:
        yield server


async def post(
    server: JwpServer, method: str, message: bytes, headers: dict[str, str]
) -> WebResponse:
    assert server.extras is not None and server.extras.web is not None
    url = f"http://127.0.0.1:{server.extras.web.port}/jobworkerp.service.{method}"
    request_headers = {
        "content-type": "application/grpc-web+proto",
        "x-grpc-web": "1",
        **headers,
    }
    async with httpx.AsyncClient(http1=True, http2=False) as client:
        response = await client.post(url, content=frame(message), headers=request_headers)
    assert response.http_version == "HTTP/1.1"
    return parse(response)


async def test_web_unary_call(web_server: JwpServer) -> None:
    response = await post(
        web_server,
        "RunnerService/Count",
        service_common_pb2.CountCondition().SerializeToString(),
        AUTH,
    )

    assert response.http_status == 200
    assert response.grpc_status == 0
    assert len(response.messages) == 1
    assert web_server.components is not None
    total = service_common_pb2.CountResponse.FromString(response.messages[0]).total
    assert total == len(web_server.components.runners)


async def test_web_server_stream(web_server: JwpServer) -> None:
    request = service_common_pb2.FindListRequest(limit=3).SerializeToString()

    response = await post(web_server, "RunnerService/FindList", request, AUTH)

    assert response.grpc_status == 0
    runners = [runner_pb2.Runner.FromString(message) for message in response.messages]
    assert len(runners) == 3
    assert all(runner.data.name for runner in runners)


async def test_web_empty_stream_ends_ok(web_server: JwpServer) -> None:
    request = service_common_pb2.FindListRequest().SerializeToString()

    response = await post(web_server, "JobService/FindList", request, AUTH)

    assert response.http_status == 200
    assert response.grpc_status == 0
    assert response.messages == []


async def test_web_missing_token_rejected(web_server: JwpServer) -> None:
    response = await post(web_server, "RunnerService/Count", b"", {})

    assert response.grpc_status == 16  # UNAUTHENTICATED
    assert "missing header jobworkerp-auth" in response.grpc_message


async def test_web_stream_needs_token(web_server: JwpServer) -> None:
    response = await post(
        web_server, "RunnerService/FindList", b"", {"jobworkerp-auth": "wrong-token-x"}
    )

    assert response.grpc_status == 16
    assert "invalid token" in response.grpc_message
    assert TOKEN not in response.grpc_message


async def test_web_bad_request_invalid_argument(web_server: JwpServer) -> None:
    response = await post(web_server, "WorkerService/FindByName", b"\x0a\x02\xff\xfe", AUTH)

    assert response.grpc_status == 3  # INVALID_ARGUMENT
    assert "name is not valid UTF-8" in response.grpc_message


async def test_web_handler_error_status(web_server: JwpServer) -> None:
    request = runner_pb2.RunnerId(value=1).SerializeToString()

    response = await post(web_server, "RunnerService/Delete", request, AUTH)

    assert response.grpc_status == 3
    assert "runner id 1 is reserved" in response.grpc_message
