"""Sessions with MCP servers over stdio, SSE or streamable HTTP, using the `mcp` SDK.

The SDK keeps a connection inside anyio task groups, whose context managers
must be entered and exited by one task. A session therefore runs in a task
of its own (`McpSession._serve`) that connects, lists the tools, and keeps
the connection open until `close`. Jobs call tools from their own tasks
through the connected client, which the SDK supports; a job that is
cancelled only cancels its request, never the session's task group.

The standard error of a stdio server goes to the log at DEBUG, and its last
lines are added to the error when the server fails to start or exits.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TextIO, TypeVar

import mcp_types
from mcp import Client, StdioServerParameters
from mcp.client.sse import sse_client
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from jwp.errors import RetryableRunnerError, RunnerArgumentError, RunnerError

from .mcp_config import McpServerConfig, SseTransport, StdioTransport

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Maximum time a session's task may take to shut down, in s. The SDK (mcp 2.3)
# gives a stdio server 2 s to exit after its stdin closes, then 2 s after
# SIGTERM before SIGKILL.
CLOSE_TIMEOUT_S = 8.0

# Pages of `tools/list` read at most, so a server whose cursor never ends
# cannot hang a session.
MAX_TOOL_PAGES = 100

STDERR_TAIL_LINES = 20
STDERR_MAX_LINE_CHARS = 2000


class McpSession:
    """One open session with an MCP server.

    Args:
        config: The server to connect to.
        connect_timeout_s: Limit for starting the server, the handshake and
            listing the tools.
    """

    def __init__(self, config: McpServerConfig, connect_timeout_s: float) -> None:
        self.config = config
        self._connect_timeout_s = connect_timeout_s
        self._client: Client | None = None
        self._tools: dict[str, mcp_types.Tool] = {}
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._closing = asyncio.Event()
        self._error: RunnerError | None = None
        self._broken = False
        self._stderr: _StderrLog | None = None

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def usable(self) -> bool:
        """Whether the session is connected and no call has found the connection broken."""
        return self._client is not None and not self._broken and not self._closing.is_set()

    @property
    def tool_names(self) -> list[str]:
        return sorted(self._tools)

    async def open(self) -> None:
        """Connect and list the tools, within the connect timeout.

        Raises:
            RetryableRunnerError: The server could not be started or reached,
                failed the handshake, or took longer than the connect timeout.
        """
        self._task = asyncio.create_task(self._serve(), name=f"mcp-session-{self.name}")
        connected = asyncio.create_task(self._connected.wait())
        try:
            await asyncio.wait(
                {self._task, connected},
                timeout=self._connect_timeout_s,
                return_when=asyncio.FIRST_COMPLETED,
            )
        except asyncio.CancelledError:
            await self.close()
            raise
        finally:
            connected.cancel()

        if self._connected.is_set() and not self._task.done():
            return
        if self._task.done():
            raise self._error or RetryableRunnerError(
                f"MCP server {self.name!r} closed the session while connecting{self._stderr_tail()}"
            )
        await self.close()
        raise RetryableRunnerError(
            f"MCP server {self.name!r} ({self.config.describe_target()}) did not connect and list "
            f"its tools within {self._connect_timeout_s * 1000:.0f} ms{self._stderr_tail()}; "
            "check that it starts, or raise JWP_MCP_CONNECT_TIMEOUT_MS"
        )

    async def close(self) -> None:
        """End the session and, for stdio, stop and reap the server process."""
        task = self._task
        if task is None:
            return
        self._closing.set()
        if not self._connected.is_set():
            task.cancel()
        done, _ = await asyncio.wait({task}, timeout=CLOSE_TIMEOUT_S)
        if not done:
            logger.warning(
                "MCP server %r: the session did not close within %.0f s; cancelling it",
                self.name,
                CLOSE_TIMEOUT_S,
            )
            task.cancel()
            await asyncio.wait({task}, timeout=CLOSE_TIMEOUT_S)

    async def call_tool(
        self, tool_name: str, arguments: dict[str, Any]
    ) -> mcp_types.CallToolResult:
        """Call one tool and return its result, tool errors included (`is_error`).

        Raises:
            RunnerArgumentError: The server has no such tool, or rejected the arguments.
            RetryableRunnerError: The connection broke (the server exited or is
                unreachable); the session is then unusable and must be replaced.
            RunnerError: The server returned another protocol error.
        """
        client = self._client
        if client is None or not self.usable:
            raise RetryableRunnerError(f"the session with MCP server {self.name!r} is closed")
        if tool_name not in self._tools:
            # The server may have added the tool since the session listed them.
            await self._guarded(self._list_tools(client))
            if tool_name not in self._tools:
                raise RunnerArgumentError(
                    f"MCP server {self.name!r} has no tool {tool_name!r}; available tools: "
                    f"{', '.join(self.tool_names) or '(none)'}"
                )
        return await self._guarded(client.call_tool(tool_name, arguments))

    async def _guarded(self, call: Awaitable[T]) -> T:
        """Await a request, turning SDK and transport errors into runner errors."""
        try:
            return await call
        except MCPError as error:
            if error.code == mcp_types.CONNECTION_CLOSED:
                self._broken = True
                raise RetryableRunnerError(
                    f"MCP server {self.name!r} closed the connection during the call"
                    f"{self._stderr_tail()}"
                ) from None
            if error.code == mcp_types.INVALID_PARAMS:
                raise RunnerArgumentError(
                    f"MCP server {self.name!r} rejected the call: {error.message}"
                ) from None
            raise RunnerError(
                f"MCP server {self.name!r} returned error {error.code}: {error.message}"
            ) from None
        except Exception as error:
            self._broken = True
            raise RetryableRunnerError(
                f"the connection to MCP server {self.name!r} failed: {_describe(error)}"
                f"{self._stderr_tail()}"
            ) from None

    async def _serve(self) -> None:
        """Hold the connection open until `close`; this task enters and exits the SDK's scopes."""
        try:
            async with contextlib.AsyncExitStack() as stack:
                client = await self._connect(stack)
                await self._list_tools(client)
                self._client = client
                self._connected.set()
                logger.debug("MCP server %r: session open, tools %s", self.name, self.tool_names)
                await self._closing.wait()
        except Exception as error:
            if self._connected.is_set():
                logger.warning("MCP server %r: the session ended: %s", self.name, _describe(error))
            self._error = RetryableRunnerError(
                f"cannot connect to MCP server {self.name!r} ({self.config.describe_target()}): "
                f"{_describe(error)}{self._stderr_tail()}"
            )
        finally:
            self._client = None
            self._broken = True

    async def _connect(self, stack: contextlib.AsyncExitStack) -> Client:
        transport = self.config.transport
        if isinstance(transport, StdioTransport):
            streams = await self._open_stdio(stack, transport)
        elif isinstance(transport, SseTransport):
            streams = await stack.enter_async_context(sse_client(transport.url))
        else:
            streams = await stack.enter_async_context(streamable_http_client(transport.url))
        # `cache=None`: every tools/list goes to the server, so a changed tool set is seen.
        client = Client(_already_open(streams), cache=None)
        return await stack.enter_async_context(client)

    async def _open_stdio(self, stack: contextlib.AsyncExitStack, transport: StdioTransport) -> Any:
        parameters = StdioServerParameters(
            command=transport.command, args=transport.args, env=transport.envs
        )
        self._stderr = stderr = _StderrLog(self.name)
        await stderr.start()
        stack.push_async_callback(stderr.close)
        try:
            return await stack.enter_async_context(stdio_client(parameters, errlog=stderr.writer))
        finally:
            # The child has its own copy of the write end now; closing ours lets the
            # reader see end of file when the child exits.
            stderr.close_writer()

    async def _list_tools(self, client: Client) -> None:
        tools: dict[str, mcp_types.Tool] = {}
        cursor: str | None = None
        for _ in range(MAX_TOOL_PAGES):
            page = await client.list_tools(cursor=cursor)
            tools.update((tool.name, tool) for tool in page.tools)
            cursor = page.next_cursor
            if cursor is None:
                break
        self._tools = tools

    def _stderr_tail(self) -> str:
        if self._stderr is None or not self._stderr.tail:
            return ""
        return "; its stderr ended with: " + " | ".join(self._stderr.tail)


async def probe(config: McpServerConfig, connect_timeout_s: float) -> list[str]:
    """Connect to a server, list its tools and disconnect; return the tool names.

    Raises:
        RetryableRunnerError: The server could not be reached within the timeout.
    """
    session = McpSession(config, connect_timeout_s)
    await session.open()
    try:
        return session.tool_names
    finally:
        await session.close()


@contextlib.asynccontextmanager
async def _already_open(streams: Any) -> AsyncIterator[Any]:
    """Hand streams that are already open to `Client`, which expects a transport to enter."""
    yield streams


class _StderrLog(asyncio.Protocol):
    """Reads a stdio server's stderr from a pipe: lines go to the log, the last few are kept."""

    def __init__(self, server_name: str) -> None:
        self.server_name = server_name
        self.tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
        self._partial = b""
        read_fd, write_fd = os.pipe()
        self._reader = os.fdopen(read_fd, "rb", buffering=0)
        self.writer: TextIO = os.fdopen(write_fd, "w")
        self._transport: asyncio.ReadTransport | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.connect_read_pipe(lambda: self, self._reader)

    def close_writer(self) -> None:
        if not self.writer.closed:
            self.writer.close()

    async def close(self) -> None:
        self.close_writer()
        if self._transport is not None:
            self._transport.close()
        self._flush()

    def data_received(self, data: bytes) -> None:
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()[-STDERR_MAX_LINE_CHARS:]
        for line in lines:
            self._add(line)

    def eof_received(self) -> bool | None:
        self._flush()
        return None

    def _flush(self) -> None:
        if self._partial:
            self._add(self._partial)
            self._partial = b""

    def _add(self, line: bytes) -> None:
        text = line.decode("utf-8", errors="replace").rstrip()[:STDERR_MAX_LINE_CHARS]
        if text.strip():
            self.tail.append(text.strip())
            logger.debug("MCP server %r stderr: %s", self.server_name, text)


def _describe(error: BaseException) -> str:
    """Describe an error, looking inside exception groups for the first real cause."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
