"""An MCP server with a few test tools, over stdio, SSE or streamable HTTP.

    python tools_server.py                                   # stdio
    python tools_server.py --transport sse --port-file PATH  # HTTP on a free loopback port

For HTTP the server binds 127.0.0.1 on a free port and writes the port
number to PATH once it listens. With JWP_TEST_MCP_SESSIONS set, every
session the server serves appends a line (its pid) to that file, so a test
counts sessions on the server side. For stdio, each session is one process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import (
    AudioContent,
    BlobResourceContents,
    EmbeddedResource,
    ImageContent,
    TextContent,
    TextResourceContents,
)

SESSIONS_FILE_VARIABLE = "JWP_TEST_MCP_SESSIONS"


@contextlib.asynccontextmanager
async def count_session(_: MCPServer[Any]) -> AsyncIterator[dict[str, Any]]:
    path = os.environ.get(SESSIONS_FILE_VARIABLE)
    if path:
        # A short append before the session starts; nothing else runs yet.
        with open(path, "a", encoding="utf-8") as sessions:  # noqa: ASYNC230
            sessions.write(f"{os.getpid()}\n")
    yield {}


app = MCPServer("jwp-test-tools", lifespan=count_session, log_level="WARNING")


@app.tool()
def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


@app.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@app.tool()
def fail(reason: str) -> str:
    """Fail with the given reason, as a tool error."""
    raise ToolError(f"failed on purpose: {reason}")


@app.tool()
async def sleep(seconds: float, marker: str = "") -> str:
    """Sleep, writing `marker` (a file path) first if given."""
    if marker:
        await asyncio.to_thread(Path(marker).write_text, str(os.getpid()), encoding="utf-8")
    await asyncio.sleep(seconds)
    return "slept"


@app.tool()
def crash() -> str:
    """Exit the server process at once, in the middle of the call."""
    os._exit(3)


@app.tool()
def pid() -> str:
    """Return the server's process id."""
    return str(os.getpid())


@app.tool()
def media() -> list[Any]:
    """Return one content item of every kind."""
    return [
        TextContent(type="text", text="caption"),
        ImageContent(type="image", data="aW1hZ2U=", mime_type="image/png"),
        AudioContent(type="audio", data="YXVkaW8=", mime_type="audio/wav"),
        EmbeddedResource(
            type="resource",
            resource=TextResourceContents(
                uri="file:///notes.txt", mime_type="text/plain", text="notes"
            ),
        ),
        EmbeddedResource(
            type="resource",
            resource=BlobResourceContents(uri="file:///data.bin", blob="ZGF0YQ=="),
        ),
    ]


def serve_http(transport: str, port_file: Path) -> None:
    """Serve over HTTP on a free loopback port and write the port to `port_file`."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    # Listening before uvicorn starts: a client that connects early waits in
    # the backlog until the app serves, so the port can be published now.
    listener.listen(64)
    port_file.write_text(str(listener.getsockname()[1]), encoding="utf-8")
    web_app = app.sse_app() if transport == "sse" else app.streamable_http_app()
    uvicorn.Server(uvicorn.Config(web_app, log_level="warning")).run(sockets=[listener])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transport", choices=["stdio", "sse", "streamable-http"], default="stdio")
    parser.add_argument("--port-file", type=Path)
    options = parser.parse_args()
    if options.transport == "stdio":
        app.run("stdio")
        return
    if options.port_file is None:
        sys.exit("--port-file is required for HTTP transports")
    serve_http(options.transport, options.port_file)


if __name__ == "__main__":
    main()
