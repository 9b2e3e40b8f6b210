"""Throughput, crash recovery, periodic claims and a Redis restart with real processes.

These tests are slow (marked `slow`). The Redis restart test stops a
private Redis of its own (see `tests.support.private_services`), never the
shared one.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from jwp.proto.jobworkerp.data import common_pb2, job_pb2, job_result_pb2
from jwp.proto.jobworkerp.service import common_pb2 as service_common_pb2
from jwp.proto.jobworkerp.service import job_pb2 as job_service_pb2
from jwp.proto.jobworkerp.service import job_pb2_grpc
from tests.conftest import Stubs
from tests.scalable.conftest import TEST_LEASE_MS, Cluster, running_cluster
from tests.server.lifecycle_support import (
    command_args,
    create_worker,
    enqueue,
    results_of,
    wait_final,
)
from tests.support.private_services import PrivateRedis, private_redis
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A private Redis without persistence: a restart empties it."""
    with private_redis(tmp_path / "redis", persistent=False) as server:
        yield server


@pytest.fixture
async def volatile_redis_cluster(
    tmp_path: Path, redis_server: PrivateRedis
) -> AsyncIterator[Cluster]:
    """Processes on the private Redis and a database on the shared MariaDB."""
    async with running_cluster(tmp_path, redis_url=redis_server.url) as running:
        yield running


async def all_results(stubs: Stubs) -> list[job_result_pb2.JobResult]:
    request = service_common_pb2.FindListRequest()
    return [result async for result in stubs.results.FindList(request)]


def peak_concurrency(results: list[job_result_pb2.JobResult]) -> int:
    """Most runs overlapping at one time; a run ending at t does not overlap one starting at t."""
    events = sorted(
        [(result.data.start_time, 1) for result in results]
        + [(result.data.end_time, -1) for result in results]
    )
    running = peak = 0
    for _, change in events:
        running += change
        peak = max(peak, running)
    return peak


async def test_two_workers_run_2000_jobs_once_each(cluster: Cluster) -> None:
    front = await cluster.stubs(await cluster.start("front"))
    workers = [await cluster.start("worker", WORKER_DEFAULT_CONCURRENCY="4") for _ in range(2)]
    await create_worker(front, "bulk", store_failure=True)
    clients, per_client = 5, 400

    started = time.monotonic()

    async def client() -> list[int]:
        return [await enqueue(front, "bulk", command_args("true")) for _ in range(per_client)]

    job_ids = [
        job_id
        for ids in await asyncio.gather(*(client() for _ in range(clients)))
        for job_id in ids
    ]
    enqueued_s = time.monotonic() - started

    async def finished() -> list[job_result_pb2.JobResult]:
        count = await front.results.Count(service_common_pb2.CountCondition())
        return await all_results(front) if count.total >= len(job_ids) else []

    results = await eventually(finished, timeout_s=240, message="2000 results")
    elapsed_s = time.monotonic() - started

    by_job: dict[int, int] = {}
    for result in results:
        by_job[result.data.job_id.value] = by_job.get(result.data.job_id.value, 0) + 1
    assert len(job_ids) == clients * per_client
    assert set(by_job) == set(job_ids)
    assert set(by_job.values()) == {1}
    assert {result.data.status for result in results} == {common_pb2.SUCCESS}
    assert peak_concurrency(results) <= 8
    for worker in workers:
        assert worker.text().count(" started (attempt 1)") > 100
    print(
        f"\n2000 jobs: enqueued in {enqueued_s:.1f} s, all finished in {elapsed_s:.1f} s "
        f"({len(job_ids) / elapsed_s:.0f} jobs/s), peak concurrency {peak_concurrency(results)}"
    )


async def test_killed_worker_jobs_finish_on_other(cluster: Cluster) -> None:
    front = await cluster.stubs(await cluster.start("front"))
    doomed = await cluster.start("worker", WORKER_DEFAULT_CONCURRENCY="20")
    await create_worker(front, "sleepy")
    # The jobs outlast the start of the second worker, so the kill does not
    # land while the first worker is recording their results.
    job_ids = [await enqueue(front, "sleepy", command_args("sleep", "6")) for _ in range(20)]

    async def all_running() -> bool:
        statuses = [
            (await front.statuses.Find(job_pb2.JobId(value=job_id))).status for job_id in job_ids
        ]
        return statuses == [common_pb2.RUNNING] * 20

    await eventually(all_running, timeout_s=30, message="20 jobs RUNNING on the first worker")
    await cluster.start("worker", WORKER_DEFAULT_CONCURRENCY="20")
    killed_at = time.monotonic()
    assert doomed.process is not None
    doomed.process.send_signal(signal.SIGKILL)

    results = [await wait_final(front, job_id, timeout_s=60) for job_id in job_ids]
    recovered_s = time.monotonic() - killed_at

    assert {result.data.status for result in results} == {common_pb2.SUCCESS}
    for job_id in job_ids:
        assert len(await results_of(front, job_id)) == 1
    # Recovery waits for the lease to run out, then the 6 s jobs run again.
    assert recovered_s < TEST_LEASE_MS / 1000 + 6 + 10
    print(f"\nSIGKILL recovery: 20 jobs finished {recovered_s:.1f} s after the kill")


async def test_periodic_job_runs_once_per_slot(cluster: Cluster) -> None:
    settings = {"JOB_QUEUE_FETCH_INTERVAL": "300"}
    front = await cluster.stubs(await cluster.start("front", **settings))
    for _ in range(2):
        await cluster.start("worker", **settings)
    await create_worker(front, "tick", periodic_interval=1000)
    first_slot = int(time.time() * 1000) + 1000
    job_id = await enqueue(front, "tick", command_args("true"), run_after_time=first_slot)

    async def six_runs() -> list[job_result_pb2.JobResult]:
        results = await results_of(front, job_id)
        return results if len(results) >= 6 else []

    results = await eventually(six_runs, timeout_s=30, message="six periodic runs")
    assert (await front.jobs.Delete(job_pb2.JobId(value=job_id))).is_success

    slots = [result.data.run_after_time for result in results]
    assert len(slots) == len(set(slots)), slots
    assert slots[:6] == [first_slot + index * 1000 for index in range(6)]


async def test_redis_restart_processes_reconnect_and_restore(
    volatile_redis_cluster: Cluster, redis_server: PrivateRedis
) -> None:
    """A Redis restart without persistence loses the queues; WITH_BACKUP jobs are restored."""
    cluster = volatile_redis_cluster
    front_process = await cluster.start("front")
    front = await cluster.stubs(front_process)
    running_worker = await cluster.start(
        "worker", WORKER_CHANNELS="early", WORKER_CHANNEL_CONCURRENCIES="2"
    )
    await create_worker(front, "early", channel="early")
    await create_worker(front, "backup", queue_type=common_pb2.WITH_BACKUP, channel="late")
    backup_ids = [await enqueue(front, "backup", command_args("echo", "kept")) for _ in range(5)]

    await asyncio.to_thread(redis_server.stop)
    await asyncio.to_thread(redis_server.start)

    async def enqueue_works() -> int:
        try:
            return await enqueue(front, "early", command_args("echo", "after"))
        except Exception:
            return 0

    after_id = await eventually(enqueue_works, timeout_s=30, message="front accepts jobs again")
    assert (await wait_final(front, after_id, timeout_s=30)).data.status == common_pb2.SUCCESS
    assert "reachable again" in running_worker.text()

    restore = job_pb2_grpc.JobRestoreServiceStub(front.channel)
    restored = await restore.Restore(job_service_pb2.JobRestoreRequest())
    assert restored.is_success
    await cluster.start("worker", WORKER_CHANNELS="late", WORKER_CHANNEL_CONCURRENCIES="2")
    for job_id in backup_ids:
        assert (await wait_final(front, job_id, timeout_s=30)).data.status == common_pb2.SUCCESS
