"""Faults of a Scalable deployment (fronts, workers, Redis, MariaDB), each with what it loses.

- Redis stopped and started while jobs are queued and running: nothing.
  Jobs that end while Redis is down are put back and run once more, so
  each job has one SUCCESS result. The processes reconnect by themselves.
- MariaDB stopped and started while jobs run: nothing. RPCs that need the
  database get UNAVAILABLE at once. Jobs that end while it is down run
  again once it is back.
- Redis frozen (SIGSTOP): nothing. An enqueue gets UNAVAILABLE after the
  Redis socket timeout; calls that need only the database go on working.
- MariaDB frozen (SIGSTOP): nothing. A write gets UNAVAILABLE after two
  database timeouts instead of hanging.
- SIGTERM to a worker with 200 running jobs: nothing. Each job finishes or
  is put back and runs on another worker without counting as a failed
  attempt.

The Redis and MariaDB tests stop private instances (see
`tests.support.private_services`), never the shared services.
"""

from __future__ import annotations

import asyncio
import math
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Iterator
from pathlib import Path

import grpc
import pytest

from jwp.proto.jobworkerp.data import common_pb2, runner_pb2, worker_pb2
from jwp.proto.jobworkerp.service import common_pb2 as service_common_pb2
from jwp.proto.jobworkerp.service import job_pb2 as job_service_pb2
from jwp.server.dispatch.dispatcher import RECORDING_BACKOFF_MIN_S
from jwp.server.queue.redis_client import SOCKET_TIMEOUT_S
from tests.conftest import Stubs
from tests.faults.support import kill_process_groups, shell_args
from tests.scalable.conftest import Cluster, running_cluster
from tests.server.lifecycle_support import create_worker, enqueue, results_of
from tests.support.private_services import (
    PrivateMariaDB,
    PrivateRedis,
    private_mariadb,
    private_redis,
)
from tests.support.servers import ServerProcess
from tests.support.waiting import eventually

# Connect and read timeout of the database in the MariaDB tests, in ms.
MYSQL_TIMEOUT_MS = 3000

# Max time an RPC may take to fail while a backing service is down or frozen,
# in s. It covers a pooled connection's failed check and a new connection's
# failed handshake (two database timeouts), plus margin for a loaded machine.
OUTAGE_ANSWER_LIMIT_S = 2 * MYSQL_TIMEOUT_MS / 1000 + 5


def gated_job(folder: Path, name: str) -> bytes:
    """Args of a job that records each run, waits for the flag file `go`, then records its end."""
    return shell_args(
        f"echo $$ > {folder}/{name}.pid; echo run >> {folder}/{name}.runs; "
        f"while [ ! -e {folder}/go ]; do sleep 0.05; done; echo end >> {folder}/{name}.ends"
    )


def line_count(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


async def wait_single_success(stubs: Stubs, job_ids: list[int], timeout_s: float) -> None:
    """Wait until every job has a stored result; then check each has exactly one, a SUCCESS."""

    async def all_recorded() -> bool:
        for job_id in job_ids:
            if not await results_of(stubs, job_id):
                return False
        return True

    await eventually(all_recorded, timeout_s=timeout_s, message=f"results of {len(job_ids)} jobs")
    for job_id in job_ids:
        results = await results_of(stubs, job_id)
        statuses = [common_pb2.ResultStatus.Name(result.data.status) for result in results]
        assert statuses == ["SUCCESS"], f"job {job_id}: {statuses}"
        assert results[0].data.retried == 0, f"job {job_id} counted a failed attempt"


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[PrivateRedis]:
    with private_redis(tmp_path / "redis") as server:
        yield server


@pytest.fixture
def mariadb_server(tmp_path: Path) -> Iterator[PrivateMariaDB]:
    with private_mariadb(tmp_path / "mariadb") as server:
        yield server


@pytest.fixture
async def redis_cluster(tmp_path: Path, redis_server: PrivateRedis) -> AsyncIterator[Cluster]:
    """Processes on the private Redis and a database on the shared MariaDB."""
    async with running_cluster(tmp_path, redis_url=redis_server.url) as running:
        try:
            yield running
        finally:
            kill_process_groups(tmp_path)


@pytest.fixture
async def mariadb_cluster(tmp_path: Path, mariadb_server: PrivateMariaDB) -> AsyncIterator[Cluster]:
    """Processes on the private MariaDB and a key prefix on the shared Redis."""
    async with running_cluster(tmp_path, mysql_server_url=mariadb_server.admin_url) as running:
        running.env["JWP_MYSQL_TIMEOUT_MS"] = str(MYSQL_TIMEOUT_MS)
        try:
            yield running
        finally:
            kill_process_groups(tmp_path)


async def test_redis_restart_mid_run(
    redis_cluster: Cluster, redis_server: PrivateRedis, tmp_path: Path
) -> None:
    """Lost: nothing. Every job, queued or running when Redis went away, has one SUCCESS.

    The four jobs running during the outage end while Redis is down. When a
    job's outcome cannot be recorded, the job goes back to the queue once
    Redis returns and runs a second time (at least once delivery). A
    recording still in progress when Redis returns can succeed instead, so
    each of these jobs runs once or twice. Queued jobs run once. Enqueues
    during the outage are rejected with UNAVAILABLE and leave nothing that
    runs later.
    """
    front_process = await redis_cluster.start("front")
    front = await redis_cluster.stubs(front_process)
    worker = await redis_cluster.start("worker", WORKER_DEFAULT_CONCURRENCY="4")
    await create_worker(front, "normal")
    await create_worker(front, "backup", queue_type=common_pb2.WITH_BACKUP)
    await create_worker(front, "rdb", queue_type=common_pb2.FORCED_RDB)
    names = [f"job{number}" for number in range(10)]
    job_ids = [
        await enqueue(front, "normal" if number % 2 else "backup", gated_job(tmp_path, name))
        for number, name in enumerate(names)
    ]
    await eventually(lambda: started_count(tmp_path, names, 4), message="four jobs running")
    running = {name for name in names if line_count(tmp_path / f"{name}.runs")}

    await asyncio.to_thread(redis_server.stop)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await enqueue(front, "normal", gated_job(tmp_path, "refused"))
    # A FORCED_RDB job needs Redis too (for its status), so it is rejected
    # as well, and its row must not stay behind to run anyway.
    with pytest.raises(grpc.aio.AioRpcError) as refused_row:
        await enqueue(front, "rdb", gated_job(tmp_path, "refused-row"))
    await asyncio.to_thread((tmp_path / "go").touch)
    await eventually(lambda: ended_count(tmp_path, names, 4), message="running jobs ended")
    await eventually(
        lambda: log_contains(worker, "is unreachable"), message="the worker saw the outage"
    )
    await asyncio.to_thread(redis_server.start)

    after_id = await eventually(
        lambda: enqueue_when_available(front, "normal", gated_job(tmp_path, "after")),
        timeout_s=30,
        message="the front accepts jobs again",
    )
    await wait_single_success(front, [*job_ids, after_id], timeout_s=60)
    await eventually(
        lambda: log_contains(worker, "is reachable again"), message="the worker reconnected"
    )

    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "Redis at redis://127.0.0.1:" in (refused.value.details() or "")
    assert "retry once it is back" in (refused.value.details() or "")
    assert len(running) == 4
    for name in names:
        runs = line_count(tmp_path / f"{name}.runs")
        if name in running:
            assert runs in (1, 2), f"{name} was running during the outage and ran {runs} times"
        else:
            assert runs == 1, f"{name} was queued during the outage and ran {runs} times"
    assert line_count(tmp_path / "refused.runs") == 0
    assert refused_row.value.code() == grpc.StatusCode.UNAVAILABLE
    assert line_count(tmp_path / "refused-row.runs") == 0
    # Every accepted job is done, so no job row is left, and none was left by the rejected one.
    assert (await front.jobs.Count(service_common_pb2.CountCondition())).total == 0
    assert front_process.process is not None and front_process.process.poll() is None
    assert worker.process is not None and worker.process.poll() is None


@pytest.mark.slow
async def test_redis_frozen(
    redis_cluster: Cluster, redis_server: PrivateRedis, tmp_path: Path
) -> None:
    """Lost: nothing. An enqueue to a frozen Redis fails after its socket timeout.

    Meanwhile the front goes on serving calls that need only the database.
    """
    front = await redis_cluster.stubs(await redis_cluster.start("front"))
    await redis_cluster.start("worker")
    await create_worker(front, "normal")
    before_id = await enqueue(front, "normal", shell_args("true"))
    await wait_single_success(front, [before_id], timeout_s=30)

    await asyncio.to_thread(redis_server.freeze)
    try:
        enqueue_call = asyncio.create_task(
            rpc_error(front.jobs.Enqueue(_job_request("normal", "true"), timeout=120))
        )
        listed_at = time.monotonic()
        listed = await collect(front.workers.FindList(service_common_pb2.FindListRequest()))
        list_s = time.monotonic() - listed_at
        error, elapsed_s = await enqueue_call
    finally:
        await asyncio.to_thread(redis_server.thaw)
    after_id = await eventually(
        lambda: enqueue_when_available(front, "normal", shell_args("true")),
        timeout_s=30,
        message="the front accepts jobs again",
    )
    await wait_single_success(front, [after_id], timeout_s=30)

    details = error.details() or ""
    assert error.code() == grpc.StatusCode.UNAVAILABLE, f"{error.code()} {details}"
    assert f"Redis at {redis_server.url} is unreachable (Timeout reading" in details
    assert details.endswith("retry once it is back")
    assert elapsed_s < SOCKET_TIMEOUT_S + 5, f"the enqueue took {elapsed_s:.1f} s"
    assert len(listed) == 1
    assert list_s < 5, f"listing workers took {list_s:.1f} s while Redis was frozen"


def _job_request(worker: str, command: str) -> job_service_pb2.JobRequest:
    return job_service_pb2.JobRequest(worker_name=worker, args=shell_args(command))


async def test_mariadb_stop_and_start(
    mariadb_cluster: Cluster, mariadb_server: PrivateMariaDB, tmp_path: Path
) -> None:
    """Lost: nothing. RPCs that need the database get UNAVAILABLE while it is down.

    The three jobs running during the outage end while the database is down.
    Their results cannot be stored, so they run again once it is back.
    """
    front_process = await mariadb_cluster.start("front")
    front = await mariadb_cluster.stubs(front_process)
    worker = await mariadb_cluster.start("worker", WORKER_DEFAULT_CONCURRENCY="3")
    await create_worker(front, "normal")
    await create_worker(front, "rdb", queue_type=common_pb2.FORCED_RDB)
    names = ["job0", "job1", "job2"]
    job_ids = [await enqueue(front, "normal", gated_job(tmp_path, name)) for name in names]
    await eventually(lambda: started_count(tmp_path, names, 3), message="three jobs running")

    await asyncio.to_thread(mariadb_server.stop)
    outage_started = time.monotonic()
    outage_errors = {
        "create worker": await rpc_error(
            front.workers.Create(worker_data("during-outage"), timeout=60)
        ),
        "list workers": await rpc_error(
            collect(front.workers.FindList(service_common_pb2.FindListRequest(), timeout=60))
        ),
        "count results": await rpc_error(
            front.results.Count(service_common_pb2.CountCondition(), timeout=60)
        ),
        "enqueue FORCED_RDB": await rpc_error(
            front.jobs.Enqueue(
                job_service_pb2.JobRequest(worker_name="rdb", args=gated_job(tmp_path, "x")),
                timeout=60,
            )
        ),
    }
    await asyncio.to_thread((tmp_path / "go").touch)
    await eventually(lambda: ended_count(tmp_path, names, 3), message="running jobs ended")
    await eventually(
        lambda: log_contains(worker, "recording its outcome failed"),
        message="the worker failed to store a result",
    )
    await eventually(
        lambda: log_contains(worker, "polling the RDB for due jobs failed"),
        message="the worker's RDB poller saw the outage",
    )
    await asyncio.to_thread(mariadb_server.start)
    outage_s = time.monotonic() - outage_started

    await eventually(
        lambda: create_when_available(front, "after-outage"),
        timeout_s=30,
        message="the front stores workers again",
    )
    after_id = await enqueue(front, "rdb", gated_job(tmp_path, "after"))
    await wait_single_success(front, [*job_ids, after_id], timeout_s=60)
    await eventually(
        lambda: log_contains(worker, "polling the RDB works again"),
        message="the worker's RDB poller recovered",
    )

    for action, (error, elapsed_s) in outage_errors.items():
        details = error.details() or ""
        assert error.code() == grpc.StatusCode.UNAVAILABLE, f"{action}: {error.code()} {details}"
        assert "the database is unreachable" in details, f"{action}: {details}"
        assert details.endswith("retry once it is back"), f"{action}: {details}"
        assert elapsed_s < OUTAGE_ANSWER_LIMIT_S, f"{action} took {elapsed_s:.1f} s"
    # A job whose result cannot be stored is put back after a backoff that
    # starts at 0.5 s and doubles, so k failed runs need an outage of at least
    # 0.5 * (2**k - 1) s. One more failure may fall just after the database
    # is back, before the connection pool reconnects.
    max_runs = 1 + math.floor(math.log2(outage_s / RECORDING_BACKOFF_MIN_S + 1)) + 1
    for name in names:
        runs = line_count(tmp_path / f"{name}.runs")
        assert 2 <= runs <= max_runs, f"{name} ran {runs} times in a {outage_s:.1f} s outage"
    assert "putting it back in 0.5 s" in worker.text()
    assert worker.text().count("polling the RDB for due jobs failed") == 1
    assert front_process.process is not None and front_process.process.poll() is None
    assert worker.process is not None and worker.process.poll() is None


async def test_mariadb_frozen(
    mariadb_cluster: Cluster, mariadb_server: PrivateMariaDB, tmp_path: Path
) -> None:
    """Lost: nothing. RPCs to a frozen database fail with UNAVAILABLE instead of hanging."""
    front_process = await mariadb_cluster.start("front")
    front = await mariadb_cluster.stubs(front_process)
    await create_worker(front, "before")

    await asyncio.to_thread(mariadb_server.freeze)
    try:
        error, elapsed_s = await rpc_error(
            front.workers.Create(worker_data("while-frozen"), timeout=120)
        )
    finally:
        await asyncio.to_thread(mariadb_server.thaw)
    await eventually(
        lambda: create_when_available(front, "after"), timeout_s=30, message="writes again"
    )
    names = [
        worker.data.name
        async for worker in front.workers.FindList(service_common_pb2.FindListRequest())
    ]

    details = error.details() or ""
    assert error.code() == grpc.StatusCode.UNAVAILABLE, f"{error.code()} {details}"
    assert details.startswith("cannot create worker 'while-frozen': the database is unreachable")
    assert "read timeout" in details
    assert details.endswith("retry once it is back")
    assert elapsed_s < OUTAGE_ANSWER_LIMIT_S, f"the call took {elapsed_s:.1f} s"
    assert sorted(names) == ["after", "before"]


@pytest.mark.slow
async def test_sigterm_worker_with_200_running_jobs(tmp_path: Path) -> None:
    """Lost: nothing. Jobs that outlive the grace period run again without a failed attempt."""
    total, grace_ms = 200, 3000
    names = [f"job{number}" for number in range(total)]
    async with running_cluster(tmp_path) as cluster:
        # Starting 200 processes on 2 cores can starve the lease renewal past
        # the 4 s test lease, and then another process would return the jobs
        # of the live worker to the queue (at least once, but a second
        # result). Nothing here waits for a lease to run out.
        cluster.env["JWP_LEASE_MS"] = "20000"
        try:
            front = await cluster.stubs(await cluster.start("front"))
            doomed = await cluster.start(
                "worker", WORKER_DEFAULT_CONCURRENCY=str(total), JWP_SHUTDOWN_GRACE_MS=str(grace_ms)
            )
            await create_worker(front, "many")
            job_ids = []
            for number, name in enumerate(names):
                # Even jobs end within the grace period, odd ones wait for the flag.
                args = (
                    shell_args(f"echo run >> {tmp_path}/{name}.runs; sleep 1")
                    if number % 2 == 0
                    else gated_job(tmp_path, name)
                )
                job_ids.append(await enqueue(front, "many", args))
            await eventually(
                lambda: started_count(tmp_path, names, total),
                timeout_s=90,
                message="all 200 jobs running",
            )

            stopped_at = time.monotonic()
            doomed.signal(signal.SIGTERM)
            exit_code = await asyncio.to_thread(doomed.wait, 60)
            stop_s = time.monotonic() - stopped_at
            await asyncio.to_thread((tmp_path / "go").touch)
            await cluster.start("worker", WORKER_DEFAULT_CONCURRENCY="50")
            await wait_single_success(front, job_ids, timeout_s=120)
        finally:
            kill_process_groups(tmp_path)

    assert exit_code == 0
    # The grace period, then putting back 100 jobs and closing connections.
    assert stop_s < grace_ms / 1000 + 10, f"the worker took {stop_s:.1f} s to stop"
    assert "100 job(s) did not finish in time and were put back" in doomed.text()
    run_counts = [line_count(tmp_path / f"{name}.runs") for name in names]
    assert run_counts == [1 if number % 2 == 0 else 2 for number in range(total)]
    print(f"\nSIGTERM with 200 running jobs: the worker stopped in {stop_s:.1f} s")


def worker_data(name: str) -> worker_pb2.WorkerData:
    return worker_pb2.WorkerData(
        name=name, runner_id=runner_pb2.RunnerId(value=1), store_success=True
    )


async def collect(stream: AsyncIterator[object]) -> list[object]:
    return [item async for item in stream]


async def rpc_error(call: Awaitable[object]) -> tuple[grpc.aio.AioRpcError, float]:
    """Await a gRPC call that must fail; return its error and how long it took, in s."""
    started = time.monotonic()
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call
    return raised.value, time.monotonic() - started


async def started_count(folder: Path, names: list[str], minimum: int) -> int:
    """Return how many of the jobs `names` have started a run, once at least `minimum` have."""
    count = await asyncio.to_thread(_count_with_lines, folder, names, ".runs")
    return count if count >= minimum else 0


async def ended_count(folder: Path, names: list[str], minimum: int) -> int:
    """Return how many gated jobs have ended a run, once at least `minimum` have."""
    count = await asyncio.to_thread(_count_with_lines, folder, names, ".ends")
    return count if count >= minimum else 0


def _count_with_lines(folder: Path, names: list[str], suffix: str) -> int:
    return sum(1 for name in names if line_count(folder / f"{name}{suffix}"))


async def log_contains(process: ServerProcess, fragment: str) -> bool:
    return fragment in process.text()


async def enqueue_when_available(stubs: Stubs, worker: str, args: bytes) -> int:
    """Enqueue a job; return 0 while the front returns UNAVAILABLE."""
    try:
        return await enqueue(stubs, worker, args)
    except grpc.aio.AioRpcError as error:
        if error.code() != grpc.StatusCode.UNAVAILABLE:
            raise
        return 0


async def create_when_available(stubs: Stubs, name: str) -> bool:
    """Create a worker; return False while the front returns UNAVAILABLE."""
    try:
        await stubs.workers.Create(worker_data(name))
    except grpc.aio.AioRpcError as error:
        if error.code() != grpc.StatusCode.UNAVAILABLE:
            raise
        return False
    return True
