"""A small HTTP/1.1 server on loopback for tests of HTTP clients.

It speaks enough of HTTP/1.1 for httpx and requests: keep-alive, and request
bodies by Content-Length or chunked encoding. A response has a fixed body, a
chunked streamed body, or a raw stream after the headers that ends when the
connection closes, as Docker's exec endpoint sends. Every request is
recorded, so a test can check what the client sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Request:
    """One request as the server read it; header names are lower case."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(urlsplit(self.target).query, keep_blank_values=True)

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name.lower():
                return value
        return None

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Response:
    """What a handler returns; `body` may be an async iterator of chunks for a streamed body."""

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | AsyncIterator[bytes] = b""
    raw_stream: bool = False
    """Send the body unframed after the headers and close the connection at its end."""

    @classmethod
    def json(cls, value: Any, status: int = 200) -> Response:
        return cls(status, [("content-type", "application/json")], json.dumps(value).encode())


Handler = Callable[[Request], Awaitable[Response]]


class HttpServer:
    """An HTTP/1.1 server on a free port of 127.0.0.1 whose responses come from `handler`."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve_connection, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.wait(self._connections)
        if self._server is not None:
            await self._server.wait_closed()

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            while await self._serve_request(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # Only `close` cancels these tasks; ending normally keeps asyncio's
            # stream callback from logging the cancellation as an error.
            pass
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _serve_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Serve one request and return whether the connection stays open."""
        request_line = await reader.readline()
        if not request_line.strip():
            return False
        method, target, _ = request_line.decode("latin-1").split(" ", 2)
        headers = await _read_headers(reader)
        request = Request(method, target, headers, b"")
        request.body = await _read_body(reader, request)
        self.requests.append(request)

        response = await self.handler(request)
        keep_alive = (request.header("connection") or "").lower() != "close"
        keep_alive = keep_alive and not response.raw_stream
        await _write_response(writer, response, keep_alive, head=method == "HEAD")
        return keep_alive


@contextlib.asynccontextmanager
async def serve_http(handler: Handler) -> AsyncIterator[HttpServer]:
    """Run an HttpServer for the duration of the block."""
    server = HttpServer(handler)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


async def _read_headers(reader: asyncio.StreamReader) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    while True:
        line = (await reader.readline()).decode("latin-1").rstrip("\r\n")
        if not line:
            return headers
        name, _, value = line.partition(":")
        headers.append((name.strip().lower(), value.strip()))


async def _read_body(reader: asyncio.StreamReader, request: Request) -> bytes:
    if (request.header("transfer-encoding") or "").lower() == "chunked":
        body = bytearray()
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return bytes(body)
            body += chunk[:-2]
    length = int(request.header("content-length") or 0)
    return await reader.readexactly(length) if length else b""


async def _write_response(
    writer: asyncio.StreamWriter, response: Response, keep_alive: bool, *, head: bool
) -> None:
    reason = http.HTTPStatus(response.status).phrase
    lines = [f"HTTP/1.1 {response.status} {reason}"]
    lines += [f"{name}: {value}" for name, value in response.headers]
    body = response.body
    if isinstance(body, bytes):
        lines.append(f"content-length: {len(body)}")
    elif not response.raw_stream:
        lines.append("transfer-encoding: chunked")
    lines.append(f"connection: {'keep-alive' if keep_alive else 'close'}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    await writer.drain()

    if head:
        return
    if isinstance(body, bytes):
        writer.write(body)
    else:
        async for chunk in body:
            if response.raw_stream:
                writer.write(chunk)
            elif chunk:
                writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            await writer.drain()
        if not response.raw_stream:
            writer.write(b"0\r\n\r\n")
    await writer.drain()
