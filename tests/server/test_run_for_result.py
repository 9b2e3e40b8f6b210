"""JobManager.run_for_result: enqueue a job for a worker and wait for its final result."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from jwp.errors import InvalidArgumentError, WaitTimeoutError
from jwp.proto.jobworkerp.data import common_pb2, runner_pb2, worker_pb2
from jwp.proto.jobworkerp.runner import command_args_pb2, command_result_pb2
from jwp.server.app import JwpServer
from jwp.server.jobs import JobManager
from tests.support.waiting import eventually


def command(name: str, *args: str) -> bytes:
    return command_args_pb2.CommandArgs(command=name, args=list(args)).SerializeToString()


async def make_worker(server: JwpServer, **fields: object) -> worker_pb2.Worker:
    components = server.components
    assert components is not None
    data = worker_pb2.WorkerData(runner_id=runner_pb2.RunnerId(value=1), **fields)  # type: ignore[arg-type]
    worker_id = await components.workers.create(data)
    worker = await components.workers.find(worker_id)
    assert worker is not None
    return worker


def jobs_of(server: JwpServer) -> JobManager:
    assert server.components is not None
    return server.components.jobs


async def test_waits_for_result_of_no_result_worker(server: JwpServer) -> None:
    worker = await make_worker(server, name="quiet", response_type=common_pb2.NO_RESULT)
    result = await jobs_of(server).run_for_result(
        worker, command("echo", "hi"), {"trace": "t"}, timeout_ms=10_000
    )
    assert result.data.status == common_pb2.SUCCESS
    decoded = command_result_pb2.CommandResult()
    decoded.ParseFromString(result.data.output.items)
    assert decoded.stdout == "hi"
    assert result.metadata["trace"] == "t"


async def test_retries_before_returning_final_result(server: JwpServer) -> None:
    worker = await make_worker(
        server,
        name="retrying",
        response_type=common_pb2.DIRECT,
        retry_policy=common_pb2.RetryPolicy(
            type=common_pb2.RetryType.CONSTANT, interval=10, max_retry=2, basis=2.0
        ),
    )
    result = await jobs_of(server).run_for_result(
        worker, command("/nonexistent/jwp-test-binary"), {}, timeout_ms=10_000
    )
    assert result.data.status == common_pb2.MAX_RETRY
    assert result.data.retried == 2


async def test_timeout_cancels_the_job(server: JwpServer) -> None:
    worker = await make_worker(server, name="slow", response_type=common_pb2.DIRECT)
    manager = jobs_of(server)
    with pytest.raises(WaitTimeoutError) as caught:
        await manager.run_for_result(worker, command("sleep", "30"), {}, timeout_ms=300)
    assert "did not finish within 300 ms" in str(caught.value)

    async def no_job_left() -> bool:
        return not await manager.find_all_statuses()

    await eventually(no_job_left, message="the timed-out job to be gone")


async def test_cancelled_caller_cancels_the_job(server: JwpServer, tmp_path: Path) -> None:
    worker = await make_worker(server, name="long", response_type=common_pb2.DIRECT)
    manager = jobs_of(server)
    marker = tmp_path / "started"
    waiting = asyncio.create_task(
        manager.run_for_result(
            worker,
            command("sh", "-c", f"touch {marker}; exec sleep 30"),
            {},
            timeout_ms=60_000,
        )
    )

    async def started() -> bool:
        return marker.exists()

    await eventually(started, message="the job's command to start")
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting

    async def no_job_left() -> bool:
        return not await manager.find_all_statuses()

    await eventually(no_job_left, message="the cancelled job to be gone")


async def test_rejects_channel_this_server_does_not_serve(server: JwpServer) -> None:
    worker = await make_worker(server, name="elsewhere", channel="gpu")
    with pytest.raises(InvalidArgumentError) as caught:
        await jobs_of(server).run_for_result(worker, command("true"), {}, timeout_ms=1000)
    assert "channel 'gpu'" in str(caught.value)
    assert "WORKER_CHANNELS" in str(caught.value)
    assert not await jobs_of(server).find_all_statuses()


async def test_rejects_args_that_do_not_decode(server: JwpServer) -> None:
    worker = await make_worker(server, name="strict")
    with pytest.raises(InvalidArgumentError):
        await jobs_of(server).run_for_result(worker, b"\xff\xff", {}, timeout_ms=1000)
