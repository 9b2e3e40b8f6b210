"""JobBatchService.EnqueueBatch over a real server, on both backends."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest

from jwp.proto.jobworkerp.data import common_pb2, job_pb2
from jwp.proto.jobworkerp.runner import command_args_pb2
from jwp.proto.jobworkerp.service import job_pb2 as job_service_pb2
from jwp.proto.jobworkerp.service import job_result_pb2 as result_service_pb2
from jwp.proto.jwp.service import job_batch_pb2, job_batch_pb2_grpc
from jwp.server.grpc.job_batch_service import MAX_BATCH_JOBS
from jwp.server.routing import now_ms
from tests.conftest import Stubs
from tests.support.backends import BACKENDS
from tests.support.jobs import LISTEN_TIMEOUT_MS, create_worker

pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True)

COMMAND = common_pb2.RunnerType.COMMAND


@pytest.fixture
async def batches(stubs: Stubs) -> AsyncIterator[job_batch_pb2_grpc.JobBatchServiceStub]:
    yield job_batch_pb2_grpc.JobBatchServiceStub(stubs.channel)


def echo_args(text: str) -> bytes:
    return command_args_pb2.CommandArgs(command="echo", args=[text]).SerializeToString()


async def listen(stubs: Stubs, job_id: job_pb2.JobId, worker_name: str) -> bytes:
    result = await stubs.results.Listen(
        result_service_pb2.ListenRequest(
            job_id=job_id, worker_name=worker_name, timeout=LISTEN_TIMEOUT_MS
        )
    )
    assert result.data.status == common_pb2.SUCCESS, result.data.output
    return bytes(result.data.output.items)


async def test_batch_jobs_all_run(
    stubs: Stubs, batches: job_batch_pb2_grpc.JobBatchServiceStub
) -> None:
    worker = await create_worker(stubs, COMMAND, b"")
    requests = [
        job_service_pb2.JobRequest(worker_name=worker.name, args=echo_args(f"job {number}"))
        for number in range(5)
    ]

    response = await batches.EnqueueBatch(job_batch_pb2.EnqueueBatchRequest(requests=requests))

    assert [item.WhichOneof("outcome") for item in response.items] == ["id"] * 5
    ids = [item.id.value for item in response.items]
    assert len(set(ids)) == 5
    for number, item in enumerate(response.items):
        output = await listen(stubs, item.id, worker.name)
        assert f"job {number}".encode() in output


async def test_batch_rejects_bad_items_only(
    stubs: Stubs, batches: job_batch_pb2_grpc.JobBatchServiceStub
) -> None:
    worker = await create_worker(stubs, COMMAND, b"")
    direct = await create_worker(stubs, COMMAND, b"", response_type=common_pb2.DIRECT)
    requests = [
        job_service_pb2.JobRequest(worker_name=worker.name, args=echo_args("first")),
        job_service_pb2.JobRequest(worker_name="no-such-worker", args=echo_args("x")),
        job_service_pb2.JobRequest(worker_name=direct.name, args=echo_args("x")),
        job_service_pb2.JobRequest(worker_name=worker.name, args=echo_args("x"), priority=7),
        job_service_pb2.JobRequest(worker_name=worker.name, args=b"\xff\xff"),
        job_service_pb2.JobRequest(worker_name=worker.name, args=echo_args("last")),
    ]

    response = await batches.EnqueueBatch(job_batch_pb2.EnqueueBatchRequest(requests=requests))

    outcomes = [item.WhichOneof("outcome") for item in response.items]
    assert outcomes == ["id", "error", "error", "error", "error", "id"]
    for item in response.items[1:5]:
        assert item.error.code == "INVALID_ARGUMENT"
    assert "not found" in response.items[1].error.message
    assert "DIRECT" in response.items[2].error.message
    assert "priority 7" in response.items[3].error.message
    assert b"first" in await listen(stubs, response.items[0].id, worker.name)
    assert b"last" in await listen(stubs, response.items[5].id, worker.name)


async def test_batch_uniq_key_conflict(
    stubs: Stubs, batches: job_batch_pb2_grpc.JobBatchServiceStub
) -> None:
    # No process serves this channel, so the first job stays queued and keeps its key.
    worker = await create_worker(stubs, COMMAND, b"", channel="unserved")
    requests = [
        job_service_pb2.JobRequest(worker_name=worker.name, args=echo_args("a"), uniq_key="k"),
        job_service_pb2.JobRequest(worker_name=worker.name, args=echo_args("b"), uniq_key="k"),
    ]

    response = await batches.EnqueueBatch(job_batch_pb2.EnqueueBatchRequest(requests=requests))

    assert response.items[0].WhichOneof("outcome") == "id"
    assert response.items[1].error.code == "ALREADY_EXISTS"
    status = await stubs.statuses.Find(response.items[0].id)
    assert status.status == common_pb2.PENDING
    queued = [
        entry.job.id.value
        async for entry in stubs.jobs.FindQueueList(
            job_service_pb2.FindQueueListRequest(channel="unserved")
        )
    ]
    assert queued == [response.items[0].id.value]


async def test_batch_scheduled_job_stored(
    stubs: Stubs, batches: job_batch_pb2_grpc.JobBatchServiceStub
) -> None:
    worker = await create_worker(stubs, COMMAND, b"")
    later = now_ms() + 3_600_000
    requests = [
        job_service_pb2.JobRequest(
            worker_name=worker.name, args=echo_args("later"), run_after_time=later
        )
    ]

    response = await batches.EnqueueBatch(job_batch_pb2.EnqueueBatchRequest(requests=requests))

    found = await stubs.jobs.Find(response.items[0].id)
    assert found.data.data.run_after_time == later


@pytest.mark.parametrize("count", [0, MAX_BATCH_JOBS + 1])
async def test_batch_size_limits(
    stubs: Stubs, batches: job_batch_pb2_grpc.JobBatchServiceStub, count: int
) -> None:
    worker = await create_worker(stubs, COMMAND, b"")
    request = job_service_pb2.JobRequest(worker_name=worker.name, args=echo_args("x"))

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await batches.EnqueueBatch(job_batch_pb2.EnqueueBatchRequest(requests=[request] * count))

    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert str(MAX_BATCH_JOBS) in (caught.value.details() or "")
