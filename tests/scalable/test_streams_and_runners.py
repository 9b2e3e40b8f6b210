"""Streaming and run-time runners across the processes of a Scalable deployment."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import grpc
import pytest

from jwp.proto.jobworkerp.data import common_pb2, job_pb2, job_result_pb2, runner_pb2, worker_pb2
from jwp.proto.jobworkerp.runner import command_args_pb2, command_result_pb2
from jwp.proto.jobworkerp.service import common_pb2 as service_common_pb2
from jwp.proto.jobworkerp.service import job_pb2 as job_service_pb2
from jwp.proto.jobworkerp.service import job_result_pb2 as result_service_pb2
from jwp.proto.jobworkerp.service import runner_pb2 as runner_service_pb2
from jwp.proto.jobworkerp.service import worker_pb2 as worker_service_pb2
from tests.conftest import Stubs
from tests.scalable.conftest import Cluster
from tests.server.runners.mcp_support import stdio_definition, tool_args
from tests.support.servers import ServerProcess
from tests.support.waiting import eventually

PLAIN_PLUGIN = Path(__file__).resolve().parents[1] / "server" / "runners" / "plugin_samples"

# Prints "line 1" … "line 3", and after each line waits for the file ack-N in
# the folder given as its argument.
# The script prints its first line only once the "go" file exists, so the
# second front's listener is subscribed before any chunk is published.
HANDSHAKE_SCRIPT = """
import os, sys, time
while not os.path.exists(os.path.join(sys.argv[1], "go")):
    time.sleep(0.01)
for number in range(1, 4):
    print(f"line {number}", flush=True)
    while not os.path.exists(os.path.join(sys.argv[1], f"ack-{number}")):
        time.sleep(0.01)
"""


def metadata_value(metadata: object, key: str) -> bytes:
    for entry_key, value in metadata or ():  # type: ignore[attr-defined]
        if entry_key == key:
            assert isinstance(value, bytes)
            return value
    raise AssertionError(f"no {key} in {metadata}")


async def direct_worker(stubs: Stubs, name: str, runner_id: int, **fields: object) -> None:
    values: dict[str, object] = {
        "name": name,
        "runner_id": runner_pb2.RunnerId(value=runner_id),
        "response_type": common_pb2.DIRECT,
    }
    values.update(fields)
    await stubs.workers.Create(worker_pb2.WorkerData(**values))  # type: ignore[arg-type]


async def logged(process: ServerProcess, text: str) -> bool:
    return text in process.text()


async def test_stream_crosses_processes(cluster: Cluster, tmp_path: Path) -> None:
    fronts = [await cluster.stubs(await cluster.start("front")) for _ in range(2)]
    await cluster.start("worker")
    await direct_worker(fronts[0], "lines", 1, broadcast_results=True)
    args = command_args_pb2.CommandArgs(
        command=sys.executable, args=["-c", HANDSHAKE_SCRIPT, str(tmp_path)]
    )
    call = fronts[0].jobs.EnqueueForStream(
        job_service_pb2.JobRequest(worker_name="lines", args=args.SerializeToString())
    )
    job_id = job_pb2.JobId.FromString(metadata_value(await call.initial_metadata(), "x-job-id-bin"))
    listen_call = fronts[1].results.ListenStream(
        result_service_pb2.ListenRequest(job_id=job_id, worker_name="lines", timeout=30_000)
    )
    await listen_call.initial_metadata()
    await asyncio.to_thread((tmp_path / "go").touch)

    items = aiter(call)
    for number in range(1, 4):
        item = await asyncio.wait_for(anext(items), timeout=20)
        assert command_result_pb2.CommandResult.FromString(item.data).stdout == f"line {number}"
        (tmp_path / f"ack-{number}").touch()
    rest = [item async for item in items]
    listened = [item async for item in listen_call]

    assert rest[-1].HasField("end")
    assert len(listened) == 3 + len(rest)
    assert listened[-1].HasField("end")
    result = job_result_pb2.JobResult.FromString(
        metadata_value(await call.trailing_metadata(), "x-job-result-bin")
    )
    assert result.data.status == common_pb2.SUCCESS
    listened_result = job_result_pb2.JobResult.FromString(
        metadata_value(await listen_call.trailing_metadata(), "x-job-result-bin")
    )
    assert listened_result.id == result.id


async def test_runner_created_and_deleted_across_processes(cluster: Cluster) -> None:
    front = await cluster.stubs(await cluster.start("front"))
    worker = await cluster.start("worker")

    created = await front.runners.Create(
        runner_service_pb2.CreateRunnerRequest(
            name="Plain",
            runner_type=common_pb2.RunnerType.PLUGIN,
            definition=str(PLAIN_PLUGIN / "plain.py"),
        )
    )
    await eventually(
        lambda: logged(worker, "loaded: another process created it"),
        timeout_s=20,
        message="worker process loaded the plugin",
    )
    await direct_worker(front, "plain", created.id.value)
    response = await front.jobs.Enqueue(job_service_pb2.JobRequest(worker_name="plain", args=b"x"))
    assert response.result.data.status == common_pb2.SUCCESS
    assert response.result.data.output.items == b"X"

    # A runner that workers use cannot be deleted; its workers go first.
    with pytest.raises(grpc.aio.AioRpcError) as in_use:
        await front.runners.Delete(created.id)
    assert in_use.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    plain = await front.workers.FindByName(worker_service_pb2.WorkerNameRequest(name="plain"))
    assert (await front.workers.Delete(plain.data.id)).is_success

    assert (await front.runners.Delete(created.id)).is_success
    await eventually(
        lambda: logged(worker, f"runner {created.id.value} dropped"),
        timeout_s=20,
        message="worker process dropped the plugin",
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await direct_worker(front, "plain-again", created.id.value)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert f"runner_id {created.id.value}" in (caught.value.details() or "")


async def test_processes_share_configured_runner(cluster: Cluster, tmp_path: Path) -> None:
    config = tmp_path / "mcp-settings.toml"
    config.write_text(f'[[server]]\nname = "tools"\n{stdio_definition()}\n')
    env = {"MCP_CONFIG": str(config)}

    front_process, _ = await asyncio.gather(
        cluster.start("front", **env), cluster.start("worker", **env)
    )
    front = await cluster.stubs(front_process)
    runners = [
        runner
        async for runner in front.runners.FindList(service_common_pb2.FindListRequest())
        if runner.data.name == "tools"
    ]
    assert len(runners) == 1
    assert json.loads(runners[0].data.definition)["transport"] == "stdio"

    await direct_worker(front, "tools", runners[0].id.value)
    response = await front.jobs.Enqueue(
        job_service_pb2.JobRequest(worker_name="tools", args=tool_args("add", '{"a": 1, "b": 2}'))
    )
    assert response.result.data.status == common_pb2.SUCCESS, response.result.data.output.items
