"""The MCP_SERVER runner: each job calls one tool of an MCP server.

Job args are `McpServerArgs` (`tool_name`, and `arg_json`: the tool's
arguments as a JSON object). The result is `McpServerResult`: the content
items of the tool result and its `is_error` flag. A tool that reports an
error still makes a SUCCESS job, whose result has `is_error` set, just as a
COMMAND that exits non-zero does. Failing to reach the server fails the job.

`load` opens a session and `close` ends it, so a worker without
`use_static` gets one session per job, and a static worker keeps one per
pooled instance. A static instance whose server went away reconnects at
its next job.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import mcp_types
from google.protobuf.message import DecodeError

from jwp.errors import RunnerArgumentError
from jwp.proto.jobworkerp.data import common_pb2, runner_pb2
from jwp.proto.jobworkerp.runner.mcp_server_args_pb2 import McpServerArgs
from jwp.proto.jobworkerp.runner.mcp_server_result_pb2 import McpServerResult

from .base import Runner, RunnerSpec
from .mcp_config import McpServerConfig
from .mcp_session import McpSession
from .protos import runner_proto

logger = logging.getLogger(__name__)


class McpServerRunner(Runner):
    """Calls tools of one MCP server through a session opened by `load`."""

    def __init__(self, config: McpServerConfig, connect_timeout_s: float) -> None:
        self._config = config
        self._connect_timeout_s = connect_timeout_s
        self._session: McpSession | None = None

    async def load(self, settings: bytes) -> None:
        """Open the session; MCP_SERVER runners have no settings, so `settings` is ignored.

        Raises:
            RetryableRunnerError: The server cannot be reached.
        """
        await self._open_session()

    async def run(self, args: bytes, metadata: Mapping[str, str]) -> bytes:
        """Call the tool the args name and return an encoded `McpServerResult`.

        Raises:
            RunnerArgumentError: Invalid args or `arg_json`, or an unknown tool.
            RetryableRunnerError: The server cannot be reached or its connection broke.
        """
        tool_name, arguments = _parse_args(args, self._config.name)
        session = self._session
        if session is None or not session.usable:
            if session is not None:
                logger.info(
                    "MCP server %r: the previous session ended; reconnecting", self._config.name
                )
            session = await self._open_session()
        result = await session.call_tool(tool_name, arguments)
        return result_message(result).SerializeToString()

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def _open_session(self) -> McpSession:
        await self.close()
        session = McpSession(self._config, self._connect_timeout_s)
        await session.open()
        self._session = session
        return session


def mcp_runner_spec(
    runner_id: int, config: McpServerConfig, connect_timeout_s: float
) -> RunnerSpec:
    """Describe the runner of one MCP server."""
    return RunnerSpec(
        id=runner_id,
        name=config.name,
        description=config.description or f"Tools of the MCP server {config.name}",
        runner_type=common_pb2.RunnerType.MCP_SERVER,
        settings_proto="",
        args_proto=runner_proto("mcp_server_args.proto"),
        result_proto=runner_proto("mcp_server_result.proto"),
        output_type=runner_pb2.NON_STREAMING,
        definition=config.definition_json(),
        factory=lambda: McpServerRunner(config, connect_timeout_s),
    )


def _parse_args(args: bytes, server_name: str) -> tuple[str, dict[str, Any]]:
    """Decode McpServerArgs into the tool name and its arguments object."""
    message = McpServerArgs()
    try:
        message.ParseFromString(args)
    except DecodeError as error:
        raise RunnerArgumentError(
            f"invalid MCP_SERVER args: {error}; send an encoded jobworkerp.runner.McpServerArgs"
        ) from None
    if not message.tool_name:
        raise RunnerArgumentError(
            f"MCP_SERVER args have an empty tool_name; name a tool of MCP server {server_name!r}"
        )
    # An empty arg_json is taken as no arguments, for tools that take none.
    if not message.arg_json.strip():
        return message.tool_name, {}
    try:
        arguments = json.loads(message.arg_json)
    except json.JSONDecodeError as error:
        raise RunnerArgumentError(
            f"arg_json is not valid JSON ({error}); give the tool's arguments as a JSON object"
        ) from None
    if not isinstance(arguments, dict):
        raise RunnerArgumentError(
            f"arg_json is a JSON {type(arguments).__name__}, not an object; give the tool's "
            'arguments as a JSON object such as {"name": "value"}'
        )
    return message.tool_name, arguments


def result_message(result: mcp_types.CallToolResult) -> McpServerResult:
    """Map an MCP tool result to McpServerResult, content item by content item."""
    message = McpServerResult(is_error=bool(result.is_error))
    for item in result.content:
        content = message.content.add()
        if isinstance(item, mcp_types.TextContent):
            content.text.text = item.text
        elif isinstance(item, mcp_types.ImageContent):
            content.image.data = item.data
            content.image.mime_type = item.mime_type
        elif isinstance(item, mcp_types.AudioContent):
            content.audio.data = item.data
            content.audio.mime_type = item.mime_type
        elif isinstance(item, mcp_types.EmbeddedResource):
            _set_resource(content.resource, item.resource)
        else:
            # A resource link has no place in McpServerResult, so it is kept as
            # text that names the linked resource.
            content.text.text = f"resource link: {item.uri}"
    return message


def _set_resource(
    target: McpServerResult.EmbeddedResource,
    resource: mcp_types.TextResourceContents | mcp_types.BlobResourceContents,
) -> None:
    if isinstance(resource, mcp_types.TextResourceContents):
        target.text.uri = str(resource.uri)
        target.text.text = resource.text
        if resource.mime_type is not None:
            target.text.mime_type = resource.mime_type
        return
    target.blob.uri = str(resource.uri)
    target.blob.blob = resource.blob
    if resource.mime_type is not None:
        target.blob.mime_type = resource.mime_type
