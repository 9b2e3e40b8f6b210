"""Job lifecycle against a real server on each backend, with measured times.

Bounds on times are loose on purpose: they check the mechanism (a retry
waits its backoff, a scheduled job is not late by a poll interval), not
the machine's speed. Lateness and drift figures are recorded by
`bench/lifecycle_timing.py`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from jwp.proto.jobworkerp.data import common_pb2, job_pb2, worker_pb2
from jwp.proto.jobworkerp.service import common_pb2 as service_common_pb2
from jwp.server.app import JwpServer
from jwp.server.routing import now_ms
from tests.conftest import Stubs
from tests.server.lifecycle_support import (
    command_args,
    create_worker,
    enqueue,
    results_of,
    stdout_of,
    wait_final,
    wait_for_results,
)
from tests.support.backends import BACKENDS
from tests.support.servers import make_settings, running_server
from tests.support.waiting import eventually

pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
async def tuned(
    tmp_path: Path, request: pytest.FixtureRequest, backend: dict[str, Any]
) -> AsyncIterator[Stubs]:
    """A server with the settings given by the test's `settings` marker."""
    marker = request.node.get_closest_marker("settings")
    overrides = dict(marker.kwargs) if marker else {}
    async with running_server(make_settings(tmp_path, **backend, **overrides)) as server:
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
        try:
            yield Stubs.over(channel)
        finally:
            await channel.close()


def gaps_ms(starts: list[int], ends: list[int]) -> list[int]:
    """Time between the end of each attempt and the start of the next."""
    return [start - end for start, end in zip(starts[1:], ends[:-1], strict=True)]


# Retries


async def test_exponential_retry_backs_off_then_max_retry(stubs: Stubs) -> None:
    policy = common_pb2.RetryPolicy(
        type=common_pb2.RetryType.EXPONENTIAL, interval=100, basis=2.0, max_retry=3
    )
    await create_worker(stubs, "flaky", retry_policy=policy)
    job_id = await enqueue(stubs, "flaky", command_args("/nonexistent/jwp-test-command"))

    await wait_final(stubs, job_id)
    results = await results_of(stubs, job_id)

    assert [result.data.status for result in results] == [
        common_pb2.ERROR_AND_RETRY,
        common_pb2.ERROR_AND_RETRY,
        common_pb2.ERROR_AND_RETRY,
        common_pb2.MAX_RETRY,
    ]
    assert [result.data.retried for result in results] == [0, 1, 2, 3]
    assert {result.data.job_id.value for result in results} == {job_id}
    gaps = gaps_ms(
        [result.data.start_time for result in results], [r.data.end_time for r in results]
    )
    for gap, expected in zip(gaps, [100, 200, 400], strict=True):
        assert expected - 5 <= gap <= expected + 150, gaps
    assert b"cannot start command" in results[-1].data.output.items


async def test_retry_max_interval_caps_each_delay(stubs: Stubs) -> None:
    policy = common_pb2.RetryPolicy(
        type=common_pb2.RetryType.EXPONENTIAL,
        interval=100,
        basis=2.0,
        max_retry=3,
        max_interval=150,
    )
    await create_worker(stubs, "capped", retry_policy=policy)
    job_id = await enqueue(stubs, "capped", command_args("/nonexistent/jwp-test-command"))

    await wait_final(stubs, job_id)
    results = await results_of(stubs, job_id)

    gaps = gaps_ms(
        [result.data.start_time for result in results], [r.data.end_time for r in results]
    )
    assert len(gaps) == 3
    assert 95 <= gaps[0] <= 250, gaps
    assert 145 <= gaps[1] <= 300, gaps
    assert 145 <= gaps[2] <= 300, gaps


async def test_no_retry_policy_fails_once_with_max_retry(stubs: Stubs) -> None:
    await create_worker(stubs, "once")
    job_id = await enqueue(stubs, "once", command_args("/nonexistent/jwp-test-command"))
    result = await wait_final(stubs, job_id)
    assert result.data.status == common_pb2.MAX_RETRY
    assert len(await results_of(stubs, job_id)) == 1


async def test_linear_retry_keeps_job_id_and_succeeds(stubs: Stubs, tmp_path: Path) -> None:
    marker = tmp_path / "second-attempt"
    script = f"if [ -e {marker} ]; then echo ok; else touch {marker}; sleep 5; fi"
    policy = common_pb2.RetryPolicy(
        type=common_pb2.RetryType.LINEAR, interval=50, max_retry=2, basis=1.0
    )
    await create_worker(stubs, "second-time", retry_policy=policy)
    job_id = await enqueue(stubs, "second-time", command_args("sh", "-c", script), timeout=300)

    result = await wait_final(stubs, job_id)

    assert result.data.status == common_pb2.SUCCESS
    assert result.data.retried == 1
    assert stdout_of(result) == "ok"


# Concurrency and priorities


@pytest.mark.settings(worker_channels=["pair"], worker_channel_concurrencies=[2])
async def test_channel_never_exceeds_its_concurrency(tuned: Stubs) -> None:
    await create_worker(tuned, "pairwise", channel="pair")
    started = now_ms()
    job_ids = [await enqueue(tuned, "pairwise", command_args("sleep", "0.3")) for _ in range(12)]

    results = [await wait_final(tuned, job_id) for job_id in job_ids]
    elapsed_ms = max(result.data.end_time for result in results) - started

    events = sorted(
        [(result.data.start_time, 1) for result in results]
        + [(result.data.end_time, -1) for result in results]
    )
    running = peak = 0
    for _, change in events:
        running += change
        peak = max(peak, running)
    assert peak == 2
    assert 1700 <= elapsed_ms <= 3500, elapsed_ms


@pytest.mark.settings(worker_default_concurrency=1)
async def test_high_priority_runs_before_earlier_low(tuned: Stubs, tmp_path: Path) -> None:
    await create_worker(tuned, "busy")
    gate = tmp_path / "gate"
    blocker = await enqueue(
        tuned, "busy", command_args("sh", "-c", f"while [ ! -e {gate} ]; do sleep 0.01; done")
    )
    low = [
        await enqueue(tuned, "busy", command_args("true"), priority=common_pb2.PRIORITY_LOW)
        for _ in range(5)
    ]
    high = await enqueue(tuned, "busy", command_args("true"), priority=common_pb2.PRIORITY_HIGH)
    await asyncio.to_thread(gate.touch)

    results = {job_id: await wait_final(tuned, job_id) for job_id in [blocker, *low, high]}
    order = sorted(results, key=lambda job_id: results[job_id].data.start_time)

    assert order[0] == blocker
    assert order[1] == high
    assert order[2:] == low


# Scheduled and periodic jobs


async def test_run_after_time_in_queue_starts_on_time(stubs: Stubs) -> None:
    await create_worker(stubs, "timed")
    due = now_ms() + 2000
    job_id = await enqueue(stubs, "timed", command_args("true"), run_after_time=due)

    result = await wait_final(stubs, job_id)

    assert 0 <= result.data.start_time - due <= 50
    assert not (await stubs.jobs.Find(job_pb2.JobId(value=job_id))).HasField("data")


async def test_run_after_time_in_rdb_starts_on_time(stubs: Stubs) -> None:
    await create_worker(stubs, "timed")
    due = now_ms() + 10_000
    job_id = await enqueue(stubs, "timed", command_args("true"), run_after_time=due)
    stored = await stubs.jobs.Find(job_pb2.JobId(value=job_id))
    assert stored.data.data.run_after_time == due

    result = await wait_final(stubs, job_id, timeout_s=30)

    assert 0 <= result.data.start_time - due <= 50
    assert not (await stubs.jobs.Find(job_pb2.JobId(value=job_id))).HasField("data")


@pytest.mark.settings(job_queue_fetch_interval=500)
async def test_periodic_worker_runs_on_its_slots_until_deleted(tuned: Stubs) -> None:
    await create_worker(tuned, "ticker", periodic_interval=1000)
    first_slot = now_ms() + 300
    job_id = await enqueue(tuned, "ticker", command_args("true"), run_after_time=first_slot)

    results = await wait_for_results(tuned, job_id, 5, timeout_s=20)
    assert (await tuned.jobs.Delete(job_pb2.JobId(value=job_id))).is_success

    starts = [result.data.start_time for result in results[:5]]
    for index, start in enumerate(starts):
        slot = first_slot + index * 1000
        assert 0 <= start - slot <= 50, (index, start - slot)
    assert [result.data.run_after_time for result in results[:5]] == [
        first_slot + index * 1000 for index in range(5)
    ]
    stopped_at = len(await results_of(tuned, job_id))
    assert not (await tuned.jobs.Find(job_pb2.JobId(value=job_id))).HasField("data")
    # Over two more slots no new run is recorded (a CANCELLED result may be
    # added by the delete itself when it hit a pending run).
    await asyncio.sleep(2.2)
    after = await results_of(tuned, job_id)
    assert len(after) <= stopped_at + 1
    assert all(result.data.status != common_pb2.SUCCESS for result in after[stopped_at:])


async def test_direct_worker_rejects_scheduled_job(stubs: Stubs) -> None:
    await create_worker(stubs, "direct", response_type=common_pb2.DIRECT)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await enqueue(stubs, "direct", command_args("true"), run_after_time=now_ms() + 5000)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


# Timeouts and cancel


def process_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


async def read_pids(path: Path) -> list[int]:
    async def written() -> list[int]:
        text = await asyncio.to_thread(lambda: path.read_text() if path.exists() else "")
        parts = text.split()
        return [int(part) for part in parts] if len(parts) == 2 else []

    return await eventually(written, message=f"pids in {path}")


async def test_timeout_stops_job_and_children(stubs: Stubs, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    await create_worker(stubs, "slow")
    script = f"sleep 30 & echo $$ $! > {pids}; wait"
    job_id = await enqueue(stubs, "slow", command_args("sh", "-c", script), timeout=500)

    result = await wait_final(stubs, job_id)
    shell, child = await read_pids(pids)

    assert result.data.status == common_pb2.MAX_RETRY
    assert b"timed out after 500 ms" in result.data.output.items
    assert result.data.end_time - result.data.start_time < 1500
    assert not process_alive(shell)
    assert not process_alive(child)


async def test_delete_cancels_running_job_and_children(stubs: Stubs, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    await create_worker(stubs, "slow")
    script = f"sleep 30 & echo $$ $! > {pids}; wait"
    job_id = await enqueue(stubs, "slow", command_args("sh", "-c", script))
    shell, child = await read_pids(pids)
    status = await stubs.statuses.Find(job_pb2.JobId(value=job_id))
    assert status.status == common_pb2.RUNNING

    deleted_at = now_ms()
    assert (await stubs.jobs.Delete(job_pb2.JobId(value=job_id))).is_success
    result = await wait_final(stubs, job_id)

    assert result.data.status == common_pb2.CANCELLED
    assert result.data.end_time - deleted_at < 1000
    assert not process_alive(shell)
    assert not process_alive(child)
    assert not (await stubs.statuses.Find(job_pb2.JobId(value=job_id))).HasField("status")


# Queue types, uniqueness, chaining, static runners


async def test_forced_rdb_job_is_stored_then_run(stubs: Stubs) -> None:
    await create_worker(stubs, "rdb", queue_type=common_pb2.FORCED_RDB)
    job_id = await enqueue(stubs, "rdb", command_args("echo", "from-rdb"))
    result = await wait_final(stubs, job_id)
    assert stdout_of(result) == "from-rdb"
    assert (await stubs.jobs.Count(service_common_pb2.CountCondition())).total == 0


async def test_with_backup_job_row_removed_after_run(stubs: Stubs) -> None:
    await create_worker(stubs, "backup", queue_type=common_pb2.WITH_BACKUP)
    job_id = await enqueue(stubs, "backup", command_args("echo", "backed"))
    result = await wait_final(stubs, job_id)
    assert stdout_of(result) == "backed"
    assert (await stubs.jobs.Count(service_common_pb2.CountCondition())).total == 0


@pytest.mark.settings(worker_default_concurrency=1)
async def test_duplicate_uniq_key_rejected_naming_key(tuned: Stubs, tmp_path: Path) -> None:
    await create_worker(tuned, "uniq")
    await create_worker(tuned, "uniq-rdb", queue_type=common_pb2.FORCED_RDB)
    gate = tmp_path / "gate"
    await enqueue(
        tuned, "uniq", command_args("sh", "-c", f"while [ ! -e {gate} ]; do sleep 0.01; done")
    )
    await enqueue(tuned, "uniq", command_args("true"), uniq_key="k-1")
    await enqueue(
        tuned, "uniq-rdb", command_args("true"), uniq_key="k-2", run_after_time=now_ms() + 60_000
    )

    for worker, key in (("uniq", "k-1"), ("uniq-rdb", "k-2")):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await enqueue(
                tuned,
                worker,
                command_args("true"),
                uniq_key=key,
                run_after_time=now_ms() + 60_000 if worker == "uniq-rdb" else 0,
            )
        assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
        assert key in (caught.value.details() or "")
    await asyncio.to_thread(gate.touch)


async def test_next_workers_receive_output_as_args(stubs: Stubs) -> None:
    second = await create_worker(stubs, "second")
    await create_worker(
        stubs, "first", next_workers=[worker_pb2.WorkerId(value=second)], broadcast_results=True
    )
    # A COMMAND job's output is an encoded CommandResult, and its fields 1-3
    # do not parse as CommandArgs; `true` prints nothing, so the output has
    # only exit_code, execution time and start time set.
    job_id = await enqueue(stubs, "first", command_args("true"))
    first = await wait_final(stubs, job_id)
    assert first.data.status == common_pb2.SUCCESS

    async def second_results() -> list[object]:
        listed = [
            result
            async for result in stubs.results.FindList(service_common_pb2.FindListRequest())
            if result.data.worker_id.value == second
        ]
        return listed

    chained = await eventually(second_results, message="chained job result")
    assert len(chained) == 1
    assert chained[0].data.args == first.data.output.items  # type: ignore[attr-defined]


async def test_static_worker_reuses_runner_instance(server: JwpServer, stubs: Stubs) -> None:
    worker_id = await create_worker(stubs, "static", use_static=True)
    for index in range(5):
        job_id = await enqueue(stubs, "static", command_args("echo", str(index)))
        assert stdout_of(await wait_final(stubs, job_id)) == str(index)

    assert server.components is not None
    assert server.components.instances.pool_stats(worker_id) == (1, 1)

    await stubs.workers.Update(
        worker_pb2.Worker(
            id=worker_pb2.WorkerId(value=worker_id),
            data=worker_pb2.WorkerData(
                name="static", runner_id=command_runner(), use_static=True, store_success=True
            ),
        )
    )
    assert server.components.instances.pool_stats(worker_id) is None


def command_runner() -> object:
    from jwp.proto.jobworkerp.data import runner_pb2

    return runner_pb2.RunnerId(value=1)


async def test_job_statuses_pending_running_wait_result(stubs: Stubs, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    await create_worker(stubs, "stat", channel="unserved")
    queued_id = await enqueue(stubs, "stat", command_args("true"))
    assert (await stubs.statuses.Find(job_pb2.JobId(value=queued_id))).status == common_pb2.PENDING

    await create_worker(stubs, "stat-run")
    running_id = await enqueue(
        stubs, "stat-run", command_args("sh", "-c", f"while [ ! -e {gate} ]; do sleep 0.01; done")
    )

    async def running() -> bool:
        status = await stubs.statuses.Find(job_pb2.JobId(value=running_id))
        return status.status == common_pb2.RUNNING

    await eventually(running, message="RUNNING status")
    all_statuses = {
        item.id.value: item.status async for item in stubs.statuses.FindAll(common_pb2.Empty())
    }
    assert all_statuses == {queued_id: common_pb2.PENDING, running_id: common_pb2.RUNNING}
    await asyncio.to_thread(gate.touch)
    await wait_final(stubs, running_id)
    assert not (await stubs.statuses.Find(job_pb2.JobId(value=running_id))).HasField("status")


async def test_delete_reaches_job_claimed_but_not_started(
    server: JwpServer, stubs: Stubs, tmp_path: Path
) -> None:
    """A job taken from its queue but still waiting for a slot is cancelled, not run."""
    from jwp.server.dispatch.run import JobRun

    marker = tmp_path / "ran"
    await create_worker(stubs, "claimed", channel="unserved")
    job_id = await enqueue(stubs, "claimed", command_args("touch", str(marker)))
    assert server.components is not None
    components = server.components
    queued = await components.queue.fetch("unserved", 1, 1.0)
    assert [item.job.id.value for item in queued] == [job_id]
    dispatcher = components.dispatcher
    dispatcher.reserve(job_id)

    assert (await stubs.jobs.Delete(job_pb2.JobId(value=job_id))).is_success
    worker = await components.workers.find(queued[0].job.data.worker_id.value)
    assert worker is not None
    run = JobRun(
        job=queued[0].job, worker=worker, channel="__default_job_channel__", queued=queued[0]
    )
    await dispatcher.submit(run)
    result = await wait_final(stubs, job_id)

    assert result.data.status == common_pb2.CANCELLED
    assert not await asyncio.to_thread(marker.exists)
