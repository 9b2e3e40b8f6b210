"""EnqueueForStream and ListenStream against a real server, with COMMAND jobs that stream lines."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import grpc
import pytest

from jwp.proto.jobworkerp.data import common_pb2, job_pb2, job_result_pb2, runner_pb2, worker_pb2
from jwp.proto.jobworkerp.runner import (
    command_args_pb2,
    command_result_pb2,
    workflow_args_pb2,
    workflow_result_pb2,
)
from jwp.proto.jobworkerp.service import job_pb2 as job_service_pb2
from jwp.proto.jobworkerp.service import job_result_pb2 as result_service_pb2
from jwp.proto.jobworkerp.service import runner_pb2 as runner_service_pb2
from jwp.server.app import JwpServer
from tests.conftest import Stubs
from tests.support.servers import wait_channel_ready
from tests.support.waiting import eventually

RESULT_HEADER = "x-job-result-bin"
JOB_ID_HEADER = "x-job-id-bin"

# Prints "line 1" … "line 5"; after each line it waits until the file ack-N
# exists in the folder given as its argument, so a line can only be printed
# once the test has received the one before.
HANDSHAKE_SCRIPT = """
import os, sys, time
folder = sys.argv[1]
for number in range(1, 6):
    print(f"line {number}", flush=True)
    while not os.path.exists(os.path.join(folder, f"ack-{number}")):
        time.sleep(0.01)
"""


def handshake_args(folder: Path) -> bytes:
    return command_args_pb2.CommandArgs(
        command=sys.executable, args=["-c", HANDSHAKE_SCRIPT, str(folder)]
    ).SerializeToString()


def command_args(command: str, *args: str) -> bytes:
    return command_args_pb2.CommandArgs(command=command, args=list(args)).SerializeToString()


async def create_worker(stubs: Stubs, name: str, **fields: object) -> None:
    values: dict[str, object] = {
        "name": name,
        "runner_id": runner_pb2.RunnerId(value=1),
        "response_type": common_pb2.DIRECT,
        "store_success": True,
        "store_failure": True,
    }
    values.update(fields)
    await stubs.workers.Create(worker_pb2.WorkerData(**values))  # type: ignore[arg-type]


def metadata_value(metadata: object, key: str) -> bytes | None:
    for entry_key, value in metadata or ():  # type: ignore[attr-defined]
        if entry_key == key:
            assert isinstance(value, bytes)
            return value
    return None


async def trailer_result(call: object) -> job_result_pb2.JobResult:
    trailing = await call.trailing_metadata()  # type: ignore[attr-defined]
    encoded = metadata_value(trailing, RESULT_HEADER)
    assert encoded is not None, f"no {RESULT_HEADER} in {trailing}"
    return job_result_pb2.JobResult.FromString(encoded)


async def job_id_of(call: object) -> int:
    initial = await call.initial_metadata()  # type: ignore[attr-defined]
    encoded = metadata_value(initial, JOB_ID_HEADER)
    assert encoded is not None, f"no {JOB_ID_HEADER} in {initial}"
    return job_pb2.JobId.FromString(encoded).value


def decode(item: common_pb2.ResultOutputItem) -> command_result_pb2.CommandResult:
    return command_result_pb2.CommandResult.FromString(item.data)


async def test_lines_arrive_before_next_is_printed(stubs: Stubs, tmp_path: Path) -> None:
    await create_worker(stubs, "lines")
    call = stubs.jobs.EnqueueForStream(
        job_service_pb2.JobRequest(worker_name="lines", args=handshake_args(tmp_path))
    )
    items = aiter(call)

    for number in range(1, 6):
        item = await asyncio.wait_for(anext(items), timeout=10)
        assert decode(item).stdout == f"line {number}"
        # The script cannot have printed the next line yet: it waits for this file.
        (tmp_path / f"ack-{number}").touch()

    last = await asyncio.wait_for(anext(items), timeout=10)
    assert decode(last).exit_code == 0
    end = await asyncio.wait_for(anext(items), timeout=10)
    assert end.HasField("end")
    with pytest.raises(StopAsyncIteration):
        await anext(items)

    result = await trailer_result(call)
    assert result.data.status == common_pb2.SUCCESS
    assert result.data.request_streaming
    assert not result.data.HasField("output")
    assert result.data.job_id.value == await job_id_of(call)
    assert await call.code() == grpc.StatusCode.OK


async def test_non_streaming_runner_rejected(stubs: Stubs, tmp_path: Path) -> None:
    plugin = tmp_path / "plain.py"
    plugin.write_text(
        "from jwp.server.runners.plugins import PluginDefinition\n"
        "class Plain:\n"
        "    async def run(self, args, metadata):\n"
        "        return args\n"
        "jwp_runner = PluginDefinition(name='Plain', description='echo', runner_class=Plain)\n"
    )
    created = await stubs.runners.Create(
        runner_service_pb2.CreateRunnerRequest(
            name="Plain", runner_type=common_pb2.RunnerType.PLUGIN, definition=str(plugin)
        )
    )
    await create_worker(stubs, "plain", runner_id=created.id)

    call = stubs.jobs.EnqueueForStream(
        job_service_pb2.JobRequest(worker_name="plain", args=b"hello")
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await anext(aiter(call))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "does not stream" in (caught.value.details() or "")


async def test_listen_stream_gets_same_chunks(
    stubs: Stubs, server: JwpServer, tmp_path: Path
) -> None:
    await create_worker(stubs, "shared", broadcast_results=True)
    call = stubs.jobs.EnqueueForStream(
        job_service_pb2.JobRequest(worker_name="shared", args=handshake_args(tmp_path))
    )
    job_id = await job_id_of(call)

    second = await wait_channel_ready(f"127.0.0.1:{server.port}")
    try:
        listener = result_service_pb2.ListenRequest(
            job_id=job_pb2.JobId(value=job_id), worker_name="shared"
        )
        listen_call = Stubs.over(second).results.ListenStream(listener)
        # The listener's initial metadata is sent once it is subscribed.
        assert await job_id_of(listen_call) == job_id

        first_items: list[common_pb2.ResultOutputItem] = []
        items = aiter(call)
        for number in range(1, 6):
            first_items.append(await asyncio.wait_for(anext(items), timeout=10))
            (tmp_path / f"ack-{number}").touch()
        first_items += [item async for item in items]
        second_items = [item async for item in listen_call]

        assert [decode(item).stdout for item in first_items[:5]] == [
            f"line {number}" for number in range(1, 6)
        ]
        assert second_items == first_items
        assert second_items[-1].HasField("end")
        first_result = await trailer_result(call)
        second_result = await trailer_result(listen_call)
        assert second_result.data.job_id.value == job_id
        assert second_result.data.status == common_pb2.SUCCESS
        assert second_result.id == first_result.id
    finally:
        await second.close()


async def test_listen_stream_after_finish_gives_empty_item(stubs: Stubs) -> None:
    await create_worker(stubs, "done", broadcast_results=True)
    call = stubs.jobs.EnqueueForStream(
        job_service_pb2.JobRequest(worker_name="done", args=command_args("echo", "hi"))
    )
    streamed = [item async for item in call]
    job_id = await job_id_of(call)
    assert decode(streamed[0]).stdout == "hi"

    listen_call = stubs.results.ListenStream(
        result_service_pb2.ListenRequest(job_id=job_pb2.JobId(value=job_id), worker_name="done")
    )
    items = [item async for item in listen_call]
    assert items == [common_pb2.ResultOutputItem()]
    result = await trailer_result(listen_call)
    assert result.data.job_id.value == job_id
    assert result.data.status == common_pb2.SUCCESS


async def test_listen_stream_of_plain_job_gives_empty_item(stubs: Stubs, tmp_path: Path) -> None:
    await create_worker(
        stubs, "plain-listen", broadcast_results=True, response_type=common_pb2.NO_RESULT
    )
    # The job waits for the file `release`, so the listener subscribes first.
    script = (
        "import os, sys, time\n"
        "while not os.path.exists(sys.argv[1]): time.sleep(0.01)\n"
        "print('done')"
    )
    release = tmp_path / "release"
    enqueued = await stubs.jobs.Enqueue(
        job_service_pb2.JobRequest(
            worker_name="plain-listen",
            args=command_args(sys.executable, "-c", script, str(release)),
        )
    )
    listen_call = stubs.results.ListenStream(
        result_service_pb2.ListenRequest(job_id=enqueued.id, worker_name="plain-listen")
    )
    assert await job_id_of(listen_call) == enqueued.id.value
    release.touch()

    assert [item async for item in listen_call] == [common_pb2.ResultOutputItem()]
    result = await trailer_result(listen_call)
    assert not result.data.request_streaming
    assert decode_result(result).stdout == "done"


def decode_result(result: job_result_pb2.JobResult) -> command_result_pb2.CommandResult:
    return command_result_pb2.CommandResult.FromString(result.data.output.items)


async def collect_all(call: object) -> list[common_pb2.ResultOutputItem]:
    return [item async for item in call]  # type: ignore[attr-defined]


async def test_listen_stream_requires_broadcast(stubs: Stubs) -> None:
    await create_worker(stubs, "quiet")
    listen_call = stubs.results.ListenStream(
        result_service_pb2.ListenRequest(job_id=job_pb2.JobId(value=1), worker_name="quiet")
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await collect_all(listen_call)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "broadcast" in (caught.value.details() or "")


async def test_listen_stream_times_out(stubs: Stubs) -> None:
    await create_worker(stubs, "waiting", broadcast_results=True)
    listen_call = stubs.results.ListenStream(
        result_service_pb2.ListenRequest(
            job_id=job_pb2.JobId(value=987654321), worker_name="waiting", timeout=200
        )
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await collect_all(listen_call)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


async def test_stream_ends_with_trailer_on_timeout(stubs: Stubs) -> None:
    await create_worker(stubs, "slow")
    script = "import time; print('started', flush=True); time.sleep(60)"
    call = stubs.jobs.EnqueueForStream(
        job_service_pb2.JobRequest(
            worker_name="slow", args=command_args(sys.executable, "-c", script), timeout=1000
        )
    )
    items = await collect_all(call)

    assert decode(items[0]).stdout == "started"
    assert items[-1].HasField("end")
    result = await trailer_result(call)
    assert result.data.status == common_pb2.MAX_RETRY
    assert b"timed out" in result.data.output.items


async def test_no_result_worker_streams_too(stubs: Stubs) -> None:
    await create_worker(stubs, "background", response_type=common_pb2.NO_RESULT)
    call = stubs.jobs.EnqueueForStream(
        job_service_pb2.JobRequest(worker_name="background", args=command_args("echo", "bg"))
    )
    items = await collect_all(call)

    assert decode(items[0]).stdout == "bg"
    assert decode(items[1]).exit_code == 0
    assert items[-1].HasField("end")
    result = await trailer_result(call)
    assert result.data.status == common_pb2.SUCCESS
    assert result.data.response_type == common_pb2.NO_RESULT


async def test_deleted_pending_stream_ends_cancelled(stubs: Stubs) -> None:
    await create_worker(stubs, "later", response_type=common_pb2.NO_RESULT)
    run_after_ms = time.time_ns() // 1_000_000 + 60_000
    call = stubs.jobs.EnqueueForStream(
        job_service_pb2.JobRequest(
            worker_name="later", args=command_args("echo", "never"), run_after_time=run_after_ms
        )
    )
    job_id = await job_id_of(call)

    async def deleted() -> bool:
        response = await stubs.jobs.Delete(job_pb2.JobId(value=job_id))
        return response.is_success

    await eventually(deleted, message="job deleted")
    items = await collect_all(call)
    assert items == [common_pb2.ResultOutputItem(end=common_pb2.Trailer())]
    result = await trailer_result(call)
    assert result.data.status == common_pb2.CANCELLED


async def test_inline_workflow_streams_tasks(stubs: Stubs) -> None:
    await create_worker(stubs, "flow", runner_id=runner_pb2.RunnerId(value=65535))
    workflow = (
        "document: {dsl: 0.0.1, namespace: default, name: streamed, version: 0.0.1}\n"
        "input: {}\n"
        "do:\n"
        "  - first:\n"
        "      set: {step: 1}\n"
        "  - second:\n"
        "      set: {step: 2}\n"
    )
    args = workflow_args_pb2.InlineWorkflowArgs(workflow_data=workflow, input="{}")
    call = stubs.jobs.EnqueueForStream(
        job_service_pb2.JobRequest(worker_name="flow", args=args.SerializeToString())
    )
    items = await collect_all(call)

    results = [
        workflow_result_pb2.WorkflowResult.FromString(item.data)
        for item in items
        if item.HasField("data")
    ]
    assert len(results) >= 2
    assert json.loads(results[-1].output) == {"step": 2}
    assert items[-1].HasField("end")
    result = await trailer_result(call)
    assert result.data.status == common_pb2.SUCCESS
