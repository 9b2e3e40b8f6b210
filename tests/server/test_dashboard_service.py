"""DashboardService.WatchChannels against a real Standalone server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import grpc
import pytest

import jwp
from jwp.config import DEFAULT_CHANNEL
from jwp.proto.jobworkerp.data import common_pb2, job_pb2, runner_pb2, worker_pb2
from jwp.proto.jobworkerp.runner import command_args_pb2
from jwp.proto.jobworkerp.service import job_pb2 as job_service_pb2
from jwp.proto.jwp.service import dashboard_pb2, dashboard_pb2_grpc
from jwp.server.app import JwpServer
from tests.conftest import Stubs
from tests.support.servers import make_settings, running_server

Snapshot = dashboard_pb2.ChannelLoadSnapshot

COMMAND = runner_pb2.RunnerId(value=1)


@pytest.fixture
async def slow_server(tmp_path: Path) -> AsyncIterator[JwpServer]:
    """A server with an extra channel `slow` that runs one job at a time."""
    settings = make_settings(tmp_path, worker_channels=["slow"], worker_channel_concurrencies=[1])
    async with running_server(settings) as running:
        yield running


@pytest.fixture
async def slow_stubs(slow_server: JwpServer) -> AsyncIterator[Stubs]:
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{slow_server.port}")
    try:
        yield Stubs.over(channel)
    finally:
        await channel.close()


def dashboard(stubs: Stubs) -> dashboard_pb2_grpc.DashboardServiceStub:
    return dashboard_pb2_grpc.DashboardServiceStub(stubs.channel)


def watch(stubs: Stubs, interval_ms: int = 100) -> grpc.aio.UnaryStreamCall:  # type: ignore[type-arg]
    request = dashboard_pb2.WatchChannelsRequest(interval_ms=interval_ms)
    return dashboard(stubs).WatchChannels(request)


async def snapshot_where(
    stream: grpc.aio.UnaryStreamCall,  # type: ignore[type-arg]
    check: Callable[[Snapshot], bool],
    *,
    timeout_s: float = 10,
    message: str = "snapshot",
) -> Snapshot:
    """Read snapshots until one passes `check`; fail after `timeout_s`."""
    last: Snapshot | None = None
    try:
        async with asyncio.timeout(timeout_s):
            async for snapshot in stream:
                last = snapshot
                if check(snapshot):
                    return snapshot
    except TimeoutError:
        pass
    raise AssertionError(f"no {message} within {timeout_s} s; last snapshot:\n{last}")


def channel(snapshot: Snapshot, name: str) -> dashboard_pb2.ChannelLoad:
    for load in snapshot.channels:
        if load.name == name:
            return load
    raise AssertionError(f"channel {name!r} missing from {[c.name for c in snapshot.channels]}")


async def create_worker(stubs: Stubs, name: str, **fields: object) -> int:
    values: dict[str, object] = {"name": name, "runner_id": COMMAND, "store_failure": True}
    values.update(fields)
    response = await stubs.workers.Create(worker_pb2.WorkerData(**values))  # type: ignore[arg-type]
    return response.id.value


async def enqueue(stubs: Stubs, worker: str, command: str, *args: str, **fields: object) -> int:
    request = job_service_pb2.JobRequest(
        worker_name=worker,
        args=command_args_pb2.CommandArgs(command=command, args=list(args)).SerializeToString(),
        **fields,  # type: ignore[arg-type]
    )
    return (await stubs.jobs.Enqueue(request)).id.value


async def test_first_snapshot_lists_channels_and_server(slow_stubs: Stubs) -> None:
    stream = watch(slow_stubs)
    snapshot = await snapshot_where(stream, lambda _: True)
    stream.cancel()

    assert [load.name for load in snapshot.channels] == [DEFAULT_CHANNEL, "slow"]
    assert channel(snapshot, DEFAULT_CHANNEL).concurrency == 4
    assert channel(snapshot, "slow").concurrency == 1
    assert snapshot.interval_ms == 100
    assert snapshot.totals == dashboard_pb2.JobTotals()
    assert snapshot.results.window_s == 300
    assert snapshot.server.version == jwp.__version__
    assert snapshot.server.storage_type == common_pb2.STANDALONE
    assert snapshot.server.uptime_ms > 0
    assert abs(snapshot.time - time.time() * 1000) < 10_000


async def test_load_follows_running_and_cancelled_jobs(slow_stubs: Stubs) -> None:
    await create_worker(slow_stubs, "sleeper", channel="slow")
    job_ids = [await enqueue(slow_stubs, "sleeper", "sleep", "30") for _ in range(3)]
    stream = watch(slow_stubs)

    busy = await snapshot_where(
        stream,
        lambda s: channel(s, "slow").running == 1 and channel(s, "slow").queued == 2,
        message="one running and two queued jobs",
    )
    assert busy.totals.pending == 2
    assert busy.totals.running == 1

    # Queued jobs first, so that none starts between two deletes.
    for job_id in reversed(job_ids):
        await slow_stubs.jobs.Delete(job_pb2.JobId(value=job_id))
    idle = await snapshot_where(
        stream,
        lambda s: s.results.cancelled == 3 and channel(s, "slow").running == 0,
        message="the cancelled jobs",
    )
    stream.cancel()

    assert channel(idle, "slow").finished_total == 1
    assert channel(idle, "slow").queued == 0
    assert idle.totals.pending == 0


async def test_finished_in_interval_counts_new_runs(slow_stubs: Stubs) -> None:
    await create_worker(slow_stubs, "quick")
    stream = watch(slow_stubs, interval_ms=200)
    first = await snapshot_where(stream, lambda _: True)
    assert channel(first, DEFAULT_CHANNEL).finished_in_interval == 0

    for _ in range(3):
        await enqueue(slow_stubs, "quick", "true")
    seen = 0
    async with asyncio.timeout(10):
        async for snapshot in stream:
            seen += channel(snapshot, DEFAULT_CHANNEL).finished_in_interval
            if channel(snapshot, DEFAULT_CHANNEL).finished_total == 3:
                break
    stream.cancel()

    assert seen == 3


async def test_results_count_successes_and_failures(slow_stubs: Stubs) -> None:
    await create_worker(slow_stubs, "mixed")
    await enqueue(slow_stubs, "mixed", "true")
    await enqueue(slow_stubs, "mixed", "true")
    await enqueue(slow_stubs, "mixed", "/nonexistent/jwp-test-command")
    stream = watch(slow_stubs)

    snapshot = await snapshot_where(
        stream,
        lambda s: s.results.succeeded == 2 and s.results.failed == 1,
        message="two successes and one failure",
    )
    stream.cancel()

    assert snapshot.results.cancelled == 0


async def test_totals_count_scheduled_and_periodic_rows(slow_stubs: Stubs) -> None:
    await create_worker(slow_stubs, "later")
    await create_worker(slow_stubs, "hourly", periodic_interval=3_600_000)
    in_an_hour_ms = int(time.time() * 1000) + 3_600_000
    await enqueue(slow_stubs, "later", "true", run_after_time=in_an_hour_ms)
    await enqueue(slow_stubs, "hourly", "true")
    stream = watch(slow_stubs)

    # The periodic job runs right away, then waits for its next slot.
    snapshot = await snapshot_where(
        stream,
        lambda s: s.totals.scheduled == 2 and s.results.succeeded == 1,
        message="two scheduled jobs after the first periodic run",
    )
    stream.cancel()

    assert snapshot.totals.periodic == 1
    assert snapshot.totals.pending == 0


async def test_unserved_channel_shows_its_queue(slow_stubs: Stubs) -> None:
    await create_worker(slow_stubs, "elsewhere", channel="gpu")
    await enqueue(slow_stubs, "elsewhere", "true")
    stream = watch(slow_stubs)

    snapshot = await snapshot_where(
        stream, lambda s: any(c.name == "gpu" and c.queued == 1 for c in s.channels)
    )
    stream.cancel()

    assert [load.name for load in snapshot.channels] == [DEFAULT_CHANNEL, "slow", "gpu"]
    assert channel(snapshot, "gpu").concurrency == 0
    assert snapshot.totals.pending == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [("interval_ms", 50), ("interval_ms", 60_001), ("result_window_s", 901)],
)
async def test_out_of_range_request_rejected(stubs: Stubs, field: str, value: int) -> None:
    request = dashboard_pb2.WatchChannelsRequest(**{field: value})
    stream = dashboard(stubs).WatchChannels(request)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stream.read()

    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in (caught.value.details() or "")


async def test_stream_ends_when_server_stops(server: JwpServer, stubs: Stubs) -> None:
    stream = watch(stubs, interval_ms=60_000)
    await snapshot_where(stream, lambda _: True)

    started = time.monotonic()
    await server.stop(grace_s=1)
    ending = await stream.read()

    assert ending is grpc.aio.EOF
    assert time.monotonic() - started < 1.5
