"""MCP server runners in a jwp server: start-up, static sessions, Create and Delete."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import grpc
import pytest

from jwp.proto.jobworkerp.data import common_pb2, job_result_pb2, runner_pb2, worker_pb2
from jwp.proto.jobworkerp.runner.mcp_server_result_pb2 import McpServerResult
from jwp.proto.jobworkerp.service import job_pb2 as job_service_pb2
from jwp.proto.jobworkerp.service import runner_pb2 as runner_service_pb2
from jwp.server.app import JwpServer
from tests.conftest import Stubs
from tests.server.runners.mcp_support import (
    TOOL_NAMES,
    http_tools_server,
    session_pids,
    stdio_definition,
    tool_args,
)
from tests.support.servers import make_settings, running_server, wait_channel_ready
from tests.support.waiting import eventually


@contextlib.asynccontextmanager
async def jwp_server(tmp_path: Path, **settings: object) -> AsyncIterator[tuple[JwpServer, Stubs]]:
    values: dict[str, object] = {"mcp_config": tmp_path / "mcp-settings.toml"}
    values.update(settings)
    async with running_server(make_settings(tmp_path, **values)) as server:
        channel = await wait_channel_ready(f"127.0.0.1:{server.port}")
        try:
            yield server, Stubs.over(channel)
        finally:
            await channel.close()


def write_config(tmp_path: Path, entries: dict[str, str]) -> None:
    text = "".join(f'[[server]]\nname = "{name}"\n{body}\n' for name, body in entries.items())
    (tmp_path / "mcp-settings.toml").write_text(text)


async def runner_named(stubs: Stubs, name: str) -> runner_pb2.Runner | None:
    response = await stubs.runners.FindByName(runner_service_pb2.RunnerNameRequest(name=name))
    return response.data if response.HasField("data") else None


async def create_worker(stubs: Stubs, name: str, runner_id: int, **fields: object) -> int:
    values: dict[str, object] = {
        "name": name,
        "runner_id": runner_pb2.RunnerId(value=runner_id),
        "response_type": common_pb2.DIRECT,
        "store_failure": True,
    }
    values.update(fields)
    response = await stubs.workers.Create(worker_pb2.WorkerData(**values))  # type: ignore[arg-type]
    return response.id.value


async def run_tool(
    stubs: Stubs, worker: str, tool_name: str, arg_json: str = "", **fields: object
) -> job_result_pb2.JobResult:
    request = job_service_pb2.JobRequest(
        worker_name=worker,
        args=tool_args(tool_name, arg_json),
        **fields,  # type: ignore[arg-type]
    )
    return (await stubs.jobs.Enqueue(request)).result


def tool_text(result: job_result_pb2.JobResult) -> str:
    assert result.data.status == common_pb2.SUCCESS, result.data.output.items
    return McpServerResult.FromString(result.data.output.items).content[0].text.text


async def test_startup_skips_failing_servers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="jwp.server.runners.external")
    with http_tools_server("sse", tmp_path) as sse_url:
        write_config(
            tmp_path,
            {
                "stdio-tools": stdio_definition(),
                "sse-tools": f'protocol = "sse"\nurl = "{sse_url}"',
                "exits": f"protocol = 'stdio'\ncommand = {json.dumps(sys.executable)}\n"
                "args = ['-c', 'raise SystemExit(1)']",
                "no-such-command": 'protocol = "stdio"\ncommand = "/nonexistent/mcp-server"',
                "hangs": 'protocol = "stdio"\ncommand = "sleep"\nargs = ["60"]',
            },
        )
        began = time.monotonic()
        async with jwp_server(tmp_path, jwp_mcp_connect_timeout_ms=3000) as (_, stubs):
            startup_s = time.monotonic() - began
            for name in ("stdio-tools", "sse-tools"):
                found = await runner_named(stubs, name)
                assert found is not None, name
                assert found.data.runner_type == common_pb2.RunnerType.MCP_SERVER
                assert found.data.output_type == runner_pb2.NON_STREAMING
                assert found.data.runner_settings_proto == ""
                assert "message McpServerArgs" in found.data.job_args_proto
                assert "message McpServerResult" in found.data.result_output_proto
            for name in ("exits", "no-such-command", "hangs"):
                assert await runner_named(stubs, name) is None, name
            sse_runner = await runner_named(stubs, "sse-tools")
            assert sse_runner is not None
            assert json.loads(sse_runner.data.definition) == {"transport": "sse", "url": sse_url}

            await create_worker(stubs, "sse-worker", sse_runner.id.value)
            assert (
                tool_text(await run_tool(stubs, "sse-worker", "echo", '{"text": "sse"}')) == "sse"
            )

    # The hanging server costs one connect timeout plus its shutdown, not a hang.
    assert startup_s < 20, startup_s
    for name in ("exits", "no-such-command", "hangs"):
        assert f"MCP server '{name}'" in caplog.text
    assert "did not connect and list its tools within 3000 ms" in caplog.text
    assert "2 of 5 MCP server(s) connected" in caplog.text


async def test_runner_id_stable_across_restart(tmp_path: Path) -> None:
    write_config(tmp_path, {"tools": stdio_definition()})
    async with jwp_server(tmp_path) as (_, stubs):
        first = await runner_named(stubs, "tools")
    async with jwp_server(tmp_path) as (_, stubs):
        second = await runner_named(stubs, "tools")

    assert first is not None and second is not None
    assert first.id.value > 65535
    assert second.id == first.id


async def test_static_worker_reuses_session(tmp_path: Path) -> None:
    sessions = tmp_path / "sessions"
    write_config(tmp_path, {"TimeLike": stdio_definition(sessions)})
    async with jwp_server(tmp_path) as (_, stubs):
        probed = len(session_pids(sessions))  # the start-up test opened one session
        runner = await runner_named(stubs, "TimeLike")
        assert runner is not None
        await create_worker(stubs, "StaticTools", runner.id.value, use_static=True)
        await create_worker(stubs, "FreshTools", runner.id.value)

        static_pids = {tool_text(await run_tool(stubs, "StaticTools", "pid")) for _ in range(3)}
        after_static = len(session_pids(sessions))
        fresh_pids = {tool_text(await run_tool(stubs, "FreshTools", "pid")) for _ in range(2)}
        after_fresh = len(session_pids(sessions))

    assert probed == 1
    assert len(static_pids) == 1
    assert after_static - probed == 1
    assert len(fresh_pids) == 2
    assert after_fresh - after_static == 2


async def test_job_errors_through_server(tmp_path: Path) -> None:
    write_config(tmp_path, {"tools": stdio_definition()})
    async with jwp_server(tmp_path) as (_, stubs):
        runner = await runner_named(stubs, "tools")
        assert runner is not None
        await create_worker(stubs, "tools-worker", runner.id.value, use_static=True)

        tool_error = await run_tool(stubs, "tools-worker", "fail", '{"reason": "x"}')
        unknown = await run_tool(stubs, "tools-worker", "missing")
        bad_json = await run_tool(stubs, "tools-worker", "echo", "{")
        crashed = await run_tool(stubs, "tools-worker", "crash")
        recovered = await run_tool(stubs, "tools-worker", "echo", '{"text": "back"}')

    assert tool_error.data.status == common_pb2.SUCCESS
    assert McpServerResult.FromString(tool_error.data.output.items).is_error
    assert unknown.data.status == common_pb2.OTHER_ERROR
    assert f"available tools: {TOOL_NAMES}".encode() in unknown.data.output.items
    assert bad_json.data.status == common_pb2.OTHER_ERROR
    assert b"arg_json is not valid JSON" in bad_json.data.output.items
    assert crashed.data.status == common_pb2.MAX_RETRY
    assert b"closed the connection" in crashed.data.output.items
    assert tool_text(recovered) == "back"


async def test_tool_past_job_timeout(tmp_path: Path, is_running: Callable[[int], bool]) -> None:
    write_config(tmp_path, {"tools": stdio_definition()})
    marker = tmp_path / "sleeping"
    async with jwp_server(tmp_path) as (_, stubs):
        runner = await runner_named(stubs, "tools")
        assert runner is not None
        await create_worker(stubs, "sleepy", runner.id.value, use_static=True)
        # A first job opens the static session, so the timeout below covers the call only.
        tool_text(await run_tool(stubs, "sleepy", "pid"))

        began = time.monotonic()
        arguments = json.dumps({"seconds": 60, "marker": str(marker)})
        result = await run_tool(stubs, "sleepy", "sleep", arguments, timeout=1000)
        elapsed_s = time.monotonic() - began

        assert result.data.status == common_pb2.MAX_RETRY
        assert b"timed out after 1000 ms" in result.data.output.items
        assert elapsed_s < 15
        pid = int(marker.read_text())
        await eventually(lambda: _not_running(is_running, pid), message="server process reaped")


async def _not_running(is_running: Callable[[int], bool], pid: int) -> bool:
    return not is_running(pid)


# RunnerService.Create and Delete


def create_request(name: str, definition: str) -> runner_service_pb2.CreateRunnerRequest:
    return runner_service_pb2.CreateRunnerRequest(
        name=name,
        description=f"{name} tools",
        runner_type=common_pb2.RunnerType.MCP_SERVER,
        definition=definition,
    )


async def test_create_mcp_runner_and_reload(tmp_path: Path) -> None:
    async with jwp_server(tmp_path) as (_, stubs):
        created = await stubs.runners.Create(create_request("created", stdio_definition()))
        runner = await runner_named(stubs, "created")
        assert runner is not None
        assert runner.id == created.id
        assert runner.data.description == "created tools"
        assert json.loads(runner.data.definition)["command"] == sys.executable
        await create_worker(stubs, "created-worker", created.id.value)
        assert tool_text(await run_tool(stubs, "created-worker", "echo", '{"text": "a"}')) == "a"

    async with jwp_server(tmp_path) as (_, stubs):
        reloaded = await runner_named(stubs, "created")
        assert reloaded is not None
        assert reloaded.id == created.id
        assert tool_text(await run_tool(stubs, "created-worker", "echo", '{"text": "b"}')) == "b"


async def test_create_mcp_runner_errors(tmp_path: Path) -> None:
    async with jwp_server(tmp_path) as (_, stubs):
        cases = [
            (
                create_request("bad", "protocol = 'telnet'"),
                grpc.StatusCode.INVALID_ARGUMENT,
                "telnet",
            ),
            (
                create_request("down", 'protocol = "sse"\nurl = "http://127.0.0.1:9/sse"'),
                grpc.StatusCode.FAILED_PRECONDITION,
                "ConnectError",
            ),
            (
                create_request("COMMAND", stdio_definition()),
                grpc.StatusCode.ALREADY_EXISTS,
                "exists",
            ),
            (
                runner_service_pb2.CreateRunnerRequest(
                    name="cmd", runner_type=common_pb2.RunnerType.COMMAND, definition="x"
                ),
                grpc.StatusCode.INVALID_ARGUMENT,
                "only MCP_SERVER and PLUGIN",
            ),
        ]
        for request, code, text in cases:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stubs.runners.Create(request)
            assert caught.value.code() == code, request.name
            assert text in (caught.value.details() or ""), caught.value.details()
            assert await runner_named(stubs, request.name) is None or request.name == "COMMAND"


async def test_create_duplicate_name_rejected(tmp_path: Path) -> None:
    async with jwp_server(tmp_path) as (_, stubs):
        await stubs.runners.Create(create_request("twice", stdio_definition()))
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stubs.runners.Create(create_request("twice", stdio_definition()))
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS


async def test_delete_of_runner_in_use_rejected(
    tmp_path: Path, is_running: Callable[[int], bool]
) -> None:
    async with jwp_server(tmp_path) as (_, stubs):
        created = await stubs.runners.Create(create_request("doomed", stdio_definition()))
        worker_id = await create_worker(stubs, "doomed-worker", created.id.value, use_static=True)
        pid = int(tool_text(await run_tool(stubs, "doomed-worker", "pid")))
        assert is_running(pid)

        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stubs.runners.Delete(created.id)
        assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "'doomed-worker'" in (caught.value.details() or "")

        assert (await stubs.workers.Delete(worker_pb2.WorkerId(value=worker_id))).is_success
        deleted = await stubs.runners.Delete(created.id)

        assert deleted.is_success
        assert await runner_named(stubs, "doomed") is None
        await eventually(lambda: _not_running(is_running, pid), message="static session closed")
        again = await stubs.runners.Delete(created.id)
        assert not again.is_success

    async with jwp_server(tmp_path) as (_, stubs):
        assert await runner_named(stubs, "doomed") is None
