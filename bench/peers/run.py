"""Run the no-op workload on each peer job queue: start its workers, time a client.

Each peer gets two worker processes on this 2-core machine, as jwp gets
one front and one worker process: Dramatiq 2 processes x 8 threads,
Celery prefork with concurrency 2, arq 2 workers (asyncio, max_jobs 64),
RQ 2 SimpleWorkers. Every client submits all jobs, then waits for every
result, which each peer keeps in Redis.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..jwp_client import Throughput, run_in_window
from ..processes import Child, children

RESULT_TIMEOUT_S = 600
WARM_UP_TIMEOUT_S = 60


@dataclass(frozen=True)
class Peer:
    name: str
    layout: str
    workers: Callable[[Path], list[Child]]
    client: Callable[[int], Throughput]


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def _namespace() -> str:
    return os.environ["BENCH_NAMESPACE"]


def _dramatiq_workers(folder: Path) -> list[Child]:
    argv = [_bin("dramatiq"), "bench.peers.dramatiq_app", "--processes", "2", "--threads", "8"]
    return [Child("dramatiq", argv, {}, folder / "dramatiq.log")]


def _dramatiq_client(jobs: int) -> Throughput:
    from .dramatiq_app import noop, result_backend

    warm_up = noop.send()
    warm_up.get_result(block=True, timeout=WARM_UP_TIMEOUT_S * 1000)
    started = time.perf_counter()
    messages = [noop.send() for _ in range(jobs)]
    for message in messages:
        message.get_result(block=True, timeout=RESULT_TIMEOUT_S * 1000)
    elapsed = time.perf_counter() - started

    keys = [result_backend.build_message_key(message) for message in [warm_up, *messages]]
    for start in range(0, len(keys), 1000):
        result_backend.client.delete(*keys[start : start + 1000])
    return Throughput(jobs, elapsed)


def _celery_workers(folder: Path) -> list[Child]:
    argv = [
        _bin("celery"), "-A", "bench.peers.celery_app", "worker",
        "-P", "prefork", "-c", "2", "-l", "WARNING", "-Q", f"{_namespace()}-celery",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    return [Child("celery", argv, {}, folder / "celery.log")]


def _celery_client(jobs: int) -> Throughput:
    from celery.result import ResultSet

    from .celery_app import noop

    noop.delay().get(timeout=WARM_UP_TIMEOUT_S)
    started = time.perf_counter()
    results = ResultSet([noop.delay() for _ in range(jobs)])
    results.join_native(timeout=RESULT_TIMEOUT_S)
    return Throughput(jobs, time.perf_counter() - started)


def _arq_workers(folder: Path) -> list[Child]:
    argv = [
        _bin("arq"), "bench.peers.arq_app.WorkerSettings",
        "--custom-log-dict", "bench.peers.arq_app.LOG_CONFIG",
    ]  # fmt: skip
    return [Child(f"arq {index}", argv, {}, folder / f"arq-{index}.log") for index in (1, 2)]


def _arq_client(jobs: int) -> Throughput:
    return asyncio.run(_arq_jobs(jobs))


async def _arq_jobs(jobs: int) -> Throughput:
    from arq import create_pool
    from arq.jobs import Job

    from .arq_app import QUEUE, WorkerSettings

    pool = await create_pool(WorkerSettings.redis_settings, default_queue_name=QUEUE)
    prefix = f"{_namespace()}-arq"
    try:
        warm_up = await pool.enqueue_job("noop", _job_id=f"{prefix}-warm-up")
        assert warm_up is not None
        await warm_up.result(timeout=WARM_UP_TIMEOUT_S, poll_delay=0.05)
        started = time.perf_counter()
        enqueued: list[Job] = []

        async def enqueue(index: int) -> None:
            job = await pool.enqueue_job("noop", _job_id=f"{prefix}-{index}")
            assert job is not None
            enqueued.append(job)

        async def wait(index: int) -> None:
            await enqueued[index].result(timeout=RESULT_TIMEOUT_S, poll_delay=0.01)

        await run_in_window(jobs, 64, enqueue)
        await run_in_window(jobs, 64, wait)
        return Throughput(jobs, time.perf_counter() - started)
    finally:
        await pool.aclose()


def _rq_workers(folder: Path) -> list[Child]:
    argv = [
        _bin("rq"), "worker", "--worker-class", "rq.worker.SimpleWorker",
        "--url", os.environ["BENCH_REDIS_URL"], "--logging_level", "WARNING",
        f"{_namespace()}-rq",
    ]  # fmt: skip
    return [Child(f"rq {index}", argv, {}, folder / f"rq-{index}.log") for index in (1, 2)]


def _rq_client(jobs: int) -> Throughput:
    from redis import Redis
    from rq import Queue

    prefix = f"{_namespace()}-rq"
    connection = Redis.from_url(os.environ["BENCH_REDIS_URL"])
    queue = Queue(prefix, connection=connection)
    function = "bench.peers.rq_tasks.noop"
    queue.enqueue(function, job_id=f"{prefix}-warm-up", result_ttl=3600)
    _wait_rq_finished(queue, 1, WARM_UP_TIMEOUT_S)
    started = time.perf_counter()
    for index in range(jobs):
        queue.enqueue(function, job_id=f"{prefix}-{index}", result_ttl=3600)
    _wait_rq_finished(queue, jobs + 1, RESULT_TIMEOUT_S)
    elapsed = time.perf_counter() - started
    connection.close()
    return Throughput(jobs, elapsed)


def _wait_rq_finished(queue: object, count: int, timeout_s: float) -> None:
    from rq import Queue

    assert isinstance(queue, Queue)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if queue.failed_job_registry.count:
            raise RuntimeError(f"{queue.failed_job_registry.count} RQ job(s) failed")
        if queue.finished_job_registry.count >= count:
            return
        time.sleep(0.02)
    raise TimeoutError(f"RQ finished {queue.finished_job_registry.count} of {count} jobs")


PEERS = {
    "dramatiq": Peer("Dramatiq", "2 processes x 8 threads", _dramatiq_workers, _dramatiq_client),
    "celery": Peer("Celery", "prefork, concurrency 2", _celery_workers, _celery_client),
    "arq": Peer("arq", "2 workers, max_jobs 64", _arq_workers, _arq_client),
    "rq": Peer("RQ", "2 SimpleWorkers", _rq_workers, _rq_client),
}


async def run_peer(peer: Peer, jobs: int, folder: Path) -> Throughput:
    """Start the peer's workers, time its client on `jobs` no-op jobs, stop the workers."""
    async with children(*peer.workers(folder)) as workers:
        try:
            return await asyncio.to_thread(peer.client, jobs)
        except Exception as error:
            logs = "\n".join(f"{child.name}: {child.tail(5)}" for child in workers)
            raise RuntimeError(f"{type(error).__name__}: {error}\n{logs}") from error
