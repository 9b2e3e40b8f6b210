"""Fronts and workers as separate `jwp serve` processes: results cross processes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from jwp.proto.jobworkerp.data import common_pb2, job_pb2, runner_pb2, worker_pb2
from jwp.proto.jobworkerp.service import common_pb2 as service_common_pb2
from jwp.proto.jobworkerp.service import job_pb2 as job_service_pb2
from jwp.proto.jobworkerp.service import job_result_pb2 as result_service_pb2
from tests.scalable.conftest import Cluster
from tests.server.lifecycle_support import (
    command_args,
    create_worker,
    enqueue,
    results_of,
    stdout_of,
)
from tests.server.lifecycle_support import wait_final as wait_final_result
from tests.support.waiting import eventually


async def test_direct_enqueue_answered_from_other_process(cluster: Cluster) -> None:
    front = await cluster.stubs(await cluster.start("front"))
    await cluster.start("worker")
    await create_worker(front, "direct", response_type=common_pb2.DIRECT)

    response = await front.jobs.Enqueue(
        job_service_pb2.JobRequest(worker_name="direct", args=command_args("echo", "across"))
    )

    assert response.result.data.status == common_pb2.SUCCESS
    assert response.result.data.job_id.value == response.id.value
    assert stdout_of(response.result) == "across"


async def test_listen_on_two_fronts_gets_same_result(cluster: Cluster) -> None:
    fronts = [await cluster.stubs(await cluster.start("front")) for _ in range(2)]
    await cluster.start("worker")
    await create_worker(fronts[0], "broadcast", broadcast_results=True)
    job_id = await enqueue(fronts[0], "broadcast", command_args("sh", "-c", "sleep 1; echo done"))

    async def listen(index: int) -> object:
        request = result_service_pb2.ListenRequest(
            job_id=job_pb2.JobId(value=job_id), worker_name="broadcast", timeout=30_000
        )
        return await fronts[index % 2].results.Listen(request)

    results = await asyncio.gather(*(listen(index) for index in range(20)))

    assert len({result.id.value for result in results}) == 1  # type: ignore[attr-defined]
    assert {stdout_of(result) for result in results} == {"done"}  # type: ignore[arg-type]


async def test_listen_by_worker_streams_on_both_fronts(cluster: Cluster) -> None:
    fronts = [await cluster.stubs(await cluster.start("front")) for _ in range(2)]
    await cluster.start("worker")
    worker_id = await create_worker(fronts[0], "watched", broadcast_results=True)
    streams = [
        front.results.ListenByWorker(
            result_service_pb2.ListenByWorkerRequest(worker_id=worker_pb2.WorkerId(value=worker_id))
        )
        for front in fronts
    ]
    received: list[list[int]] = [[], []]

    async def collect(index: int) -> None:
        async for result in streams[index]:
            received[index].append(result.data.job_id.value)

    readers = [asyncio.create_task(collect(index)) for index in range(2)]
    # The first result is enqueued once both streams are open on their fronts.
    await asyncio.sleep(0.5)
    job_ids = [
        await enqueue(fronts[index % 2], "watched", command_args("true")) for index in range(3)
    ]

    async def all_received() -> bool:
        return all(sorted(ids) == sorted(job_ids) for ids in received)

    try:
        await eventually(all_received, timeout_s=20, message="results on both streams")
    finally:
        for stream in streams:
            stream.cancel()
        await asyncio.gather(*readers, return_exceptions=True)


async def test_delete_on_front_cancels_job_on_worker(cluster: Cluster, tmp_path: Path) -> None:
    front = await cluster.stubs(await cluster.start("front"))
    await cluster.start("worker")
    await create_worker(front, "long")
    job_id = await enqueue(front, "long", command_args("sleep", "30"))

    async def running() -> bool:
        status = await front.statuses.Find(job_pb2.JobId(value=job_id))
        return status.status == common_pb2.RUNNING

    await eventually(running, timeout_s=20, message="job RUNNING on the worker")
    assert (await front.jobs.Delete(job_pb2.JobId(value=job_id))).is_success
    result = await wait_final_result(front, job_id)

    assert result.data.status == common_pb2.CANCELLED
    assert result.data.end_time - result.data.start_time < 10_000


async def test_worker_change_reaches_worker_process(cluster: Cluster) -> None:
    front = await cluster.stubs(await cluster.start("front"))
    await cluster.start("worker")
    worker_id = await create_worker(front, "flags", response_type=common_pb2.DIRECT)
    request = job_service_pb2.JobRequest(worker_name="flags", args=command_args("true"))
    first = await front.jobs.Enqueue(request)
    assert len(await results_of(front, first.id.value)) == 1

    await front.workers.Update(
        worker_pb2.Worker(
            id=worker_pb2.WorkerId(value=worker_id),
            data=worker_pb2.WorkerData(
                name="flags",
                runner_id=runner_pb2.RunnerId(value=1),
                response_type=common_pb2.DIRECT,
                store_success=False,
            ),
        )
    )
    second = await front.jobs.Enqueue(request)

    # The worker process dropped its cached copy, so it no longer stores.
    assert second.result.data.status == common_pb2.SUCCESS
    assert await results_of(front, second.id.value) == []


async def test_worker_role_serves_health_only(cluster: Cluster) -> None:
    worker = await cluster.start("worker")
    channel = grpc.aio.insecure_channel(worker.address)
    try:
        health = health_pb2_grpc.HealthStub(channel)
        reply = await health.Check(health_pb2.HealthCheckRequest(service=""))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
        jobs = (await cluster.stubs(worker)).jobs
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await jobs.Count(service_common_pb2.CountCondition())
        assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
    finally:
        await channel.close()
    assert "role worker" in worker.text()


def test_front_role_rejected_in_standalone(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("STORAGE_")}
    completed = subprocess.run(
        [sys.executable, "-m", "jwp", "serve", "--role", "front"],
        cwd=tmp_path,
        env={**env, "GRPC_ADDR": "127.0.0.1:0"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2
    assert "needs STORAGE_TYPE=Scalable" in completed.stderr


async def test_front_lists_channels_of_live_workers(cluster: Cluster) -> None:
    front = await cluster.start("front")
    await cluster.start("worker", WORKER_CHANNELS="gpu", WORKER_CHANNEL_CONCURRENCIES="1")
    await cluster.start("worker", WORKER_DEFAULT_CONCURRENCY="3")
    stubs = await cluster.stubs(front)

    response = await stubs.workers.FindChannelList(common_pb2.Empty())

    served = {channel.name: channel.concurrency for channel in response.channels}
    assert served == {"__default_job_channel__": 4 + 3, "gpu": 1}
