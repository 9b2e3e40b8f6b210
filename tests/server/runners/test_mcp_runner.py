"""McpServerRunner against the test tools server over stdio, SSE and streamable HTTP."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from jwp.errors import RetryableRunnerError, RunnerArgumentError
from jwp.proto.jobworkerp.runner.mcp_server_result_pb2 import McpServerResult
from jwp.server.runners.mcp_config import parse_definition
from jwp.server.runners.mcp_runner import McpServerRunner
from tests.server.runners.mcp_support import (
    TOOL_NAMES,
    http_tools_server,
    session_pids,
    stdio_config,
    tool_args,
)

CONNECT_TIMEOUT_S = 20.0


async def call(runner: McpServerRunner, tool_name: str, arg_json: str = "") -> McpServerResult:
    return McpServerResult.FromString(await runner.run(tool_args(tool_name, arg_json), {}))


@pytest.fixture
async def runner(tmp_path: Path) -> AsyncIterator[McpServerRunner]:
    instance = McpServerRunner(stdio_config(tmp_path / "sessions"), CONNECT_TIMEOUT_S)
    await instance.load(b"")
    try:
        yield instance
    finally:
        await instance.close()


async def test_tool_call_returns_text(runner: McpServerRunner) -> None:
    result = await call(runner, "echo", '{"text": "hello"}')

    assert not result.is_error
    assert [content.text.text for content in result.content] == ["hello"]


async def test_tool_error_sets_is_error(runner: McpServerRunner) -> None:
    result = await call(runner, "fail", '{"reason": "bad input"}')

    assert result.is_error
    assert "failed on purpose: bad input" in result.content[0].text.text


async def test_unknown_tool_lists_tools(runner: McpServerRunner) -> None:
    with pytest.raises(RunnerArgumentError) as caught:
        await call(runner, "nope", "{}")

    assert "has no tool 'nope'" in str(caught.value)
    assert f"available tools: {TOOL_NAMES}" in str(caught.value)


@pytest.mark.parametrize(
    ("arg_json", "message"),
    [("{not json", "arg_json is not valid JSON"), ("[1, 2]", "arg_json is a JSON list")],
)
async def test_bad_arg_json_rejected(runner: McpServerRunner, arg_json: str, message: str) -> None:
    with pytest.raises(RunnerArgumentError, match=message):
        await call(runner, "echo", arg_json)


async def test_empty_arg_json_means_no_arguments(runner: McpServerRunner) -> None:
    result = await call(runner, "pid", "")

    assert result.content[0].text.text.isdigit()


async def test_content_kinds_mapped(runner: McpServerRunner) -> None:
    result = await call(runner, "media")

    kinds = [content.WhichOneof("raw_content") for content in result.content]
    assert kinds == ["text", "image", "audio", "resource", "resource"]
    assert result.content[1].image.data == "aW1hZ2U="
    assert result.content[1].image.mime_type == "image/png"
    assert result.content[2].audio.mime_type == "audio/wav"
    text_resource = result.content[3].resource.text
    assert (text_resource.uri, text_resource.mime_type, text_resource.text) == (
        "file:///notes.txt",
        "text/plain",
        "notes",
    )
    blob_resource = result.content[4].resource.blob
    assert (blob_resource.uri, blob_resource.blob) == ("file:///data.bin", "ZGF0YQ==")
    assert not blob_resource.HasField("mime_type")


async def test_crash_fails_then_reconnects(
    tmp_path: Path, runner: McpServerRunner, is_running: Callable[[int], bool]
) -> None:
    first_pid = int((await call(runner, "pid")).content[0].text.text)

    with pytest.raises(RetryableRunnerError, match="closed the connection"):
        await call(runner, "crash")

    second_pid = int((await call(runner, "pid")).content[0].text.text)
    assert second_pid != first_pid
    assert session_pids(tmp_path / "sessions") == [first_pid, second_pid]
    assert not is_running(first_pid)


async def test_cancelled_call_then_close_reaps(
    tmp_path: Path, runner: McpServerRunner, is_running: Callable[[int], bool]
) -> None:
    marker = tmp_path / "sleeping"
    arguments = json.dumps({"seconds": 60, "marker": str(marker)})

    with pytest.raises(TimeoutError):
        async with asyncio.timeout(1):
            await call(runner, "sleep", arguments)
    pid = int(marker.read_text())
    await runner.close()

    assert not is_running(pid)


async def test_server_that_exits_at_start(tmp_path: Path) -> None:
    config = parse_definition(
        f"protocol = 'stdio'\ncommand = {json.dumps(sys.executable)}\n"
        "args = ['-c', 'import sys; print(\"missing API key\", file=sys.stderr); sys.exit(2)']",
        name="broken",
        description="",
    )
    instance = McpServerRunner(config, CONNECT_TIMEOUT_S)

    with pytest.raises(RetryableRunnerError) as caught:
        await instance.load(b"")

    assert "cannot connect to MCP server 'broken'" in str(caught.value)
    assert "missing API key" in str(caught.value)


@pytest.mark.parametrize("transport", ["sse", "streamable-http"])
async def test_http_transports(tmp_path: Path, transport: str) -> None:
    with http_tools_server(transport, tmp_path) as url:
        config = parse_definition(
            f'protocol = "{transport}"\nurl = "{url}"', name=transport, description=""
        )
        instance = McpServerRunner(config, CONNECT_TIMEOUT_S)
        await instance.load(b"")
        try:
            result = await call(instance, "add", '{"a": 2, "b": 3}')
        finally:
            await instance.close()

    assert result.content[0].text.text == "5"
