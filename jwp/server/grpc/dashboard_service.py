"""DashboardService: a stream of channel load snapshots for `jwp tui`.

The numbers come from the parts that own them: concurrency, running jobs
and finished runs from the dispatcher, queued jobs from the queue, due,
scheduled and periodic jobs from the RDB, and recent results from
`ResultMetrics`. Each stream samples them on its own timer.

NOTE: in Scalable mode queued jobs and RDB counts are shared by every
process, but concurrency, running jobs, finished runs and result counts
are those of the process that answers the stream; a dashboard of a
front-only process shows no running jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import grpc

import jwp
from jwp.config import StorageType
from jwp.errors import InvalidArgumentError
from jwp.proto.jobworkerp.data import common_pb2
from jwp.proto.jwp.service import dashboard_pb2, dashboard_pb2_grpc
from jwp.server.dispatch.dispatcher import Dispatcher
from jwp.server.metrics import MAX_WINDOW_S, ResultMetrics
from jwp.server.queue import JobQueue
from jwp.server.routing import now_ms
from jwp.server.storage import JobRepository, WorkerRepository

from .status import server_stream

logger = logging.getLogger(__name__)

Context = grpc.aio.ServicerContext[Any, Any]

DEFAULT_INTERVAL_MS = 1000
MIN_INTERVAL_MS = 100
"""Shortest interval a client may ask for; each snapshot costs two small RDB queries."""
MAX_INTERVAL_MS = 60_000
DEFAULT_RESULT_WINDOW_S = 300

STORAGE_TYPES = {
    StorageType.STANDALONE: common_pb2.STANDALONE,
    StorageType.SCALABLE: common_pb2.SCALABLE,
}


class DashboardService(dashboard_pb2_grpc.DashboardServiceServicer):
    """Streams `ChannelLoadSnapshot`s until the client leaves or `close` is called."""

    def __init__(
        self,
        *,
        dispatcher: Dispatcher,
        queue: JobQueue,
        jobs: JobRepository,
        workers: WorkerRepository,
        metrics: ResultMetrics,
        storage_type: StorageType,
        started_monotonic: float,
    ) -> None:
        self._dispatcher = dispatcher
        self._queue = queue
        self._jobs = jobs
        self._workers = workers
        self._metrics = metrics
        self._storage_type = STORAGE_TYPES[storage_type]
        self._started_monotonic = started_monotonic
        self._closed = asyncio.Event()

    def close(self) -> None:
        """End every open stream, so that a stopping server need not wait for them."""
        self._closed.set()

    @server_stream
    async def WatchChannels(
        self, request: dashboard_pb2.WatchChannelsRequest, context: Context
    ) -> AsyncIterator[dashboard_pb2.ChannelLoadSnapshot]:
        interval_ms = _interval_of(request)
        window_s = _window_of(request)
        logger.debug("dashboard stream opened (interval %d ms)", interval_ms)
        finished_before: dict[str, int] = {}
        while not self._closed.is_set():
            yield await self._snapshot(interval_ms, window_s, finished_before)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval_ms / 1000):
                    await self._closed.wait()

    async def _snapshot(
        self, interval_ms: int, window_s: int, finished_before: dict[str, int]
    ) -> dashboard_pb2.ChannelLoadSnapshot:
        """Sample every source once; `finished_before` carries this stream's last totals."""
        moment_ms = now_ms()
        channels = await self._channel_loads(finished_before)
        counts = await self._jobs.count_by_schedule(moment_ms)
        tally = self._metrics.tally(window_s)

        return dashboard_pb2.ChannelLoadSnapshot(
            time=moment_ms,
            interval_ms=interval_ms,
            channels=channels,
            totals=dashboard_pb2.JobTotals(
                pending=sum(channel.queued for channel in channels) + counts.due,
                scheduled=counts.scheduled,
                periodic=counts.periodic,
                running=self._dispatcher.running_count,
            ),
            results=dashboard_pb2.ResultCounts(
                window_s=tally.window_s,
                succeeded=tally.succeeded,
                failed=tally.failed,
                cancelled=tally.cancelled,
                retried=tally.retried,
            ),
            server=dashboard_pb2.ServerInfo(
                version=jwp.__version__,
                storage_type=self._storage_type,
                uptime_ms=int((time.monotonic() - self._started_monotonic) * 1000),
            ),
        )

    async def _channel_loads(
        self, finished_before: dict[str, int]
    ) -> list[dashboard_pb2.ChannelLoad]:
        served = self._dispatcher.channels
        named = set(await self._workers.find_channels())
        names = [*served, *sorted(named - served.keys())]

        loads = []
        for name in names:
            state = served.get(name)
            finished_total = state.finished if state is not None else 0
            previous = finished_before.get(name, finished_total)
            finished_before[name] = finished_total
            loads.append(
                dashboard_pb2.ChannelLoad(
                    name=name,
                    concurrency=state.slots.concurrency if state is not None else 0,
                    queued=await self._queue.queued_count(name),
                    running=self._dispatcher.running_in(name),
                    finished_in_interval=finished_total - previous,
                    finished_total=finished_total,
                )
            )
        return loads


def _interval_of(request: dashboard_pb2.WatchChannelsRequest) -> int:
    interval_ms = request.interval_ms or DEFAULT_INTERVAL_MS
    if not MIN_INTERVAL_MS <= interval_ms <= MAX_INTERVAL_MS:
        raise InvalidArgumentError(
            f"interval_ms {interval_ms} is out of range; use {MIN_INTERVAL_MS} to "
            f"{MAX_INTERVAL_MS}, or 0 for {DEFAULT_INTERVAL_MS}"
        )
    return interval_ms


def _window_of(request: dashboard_pb2.WatchChannelsRequest) -> int:
    window_s = request.result_window_s or DEFAULT_RESULT_WINDOW_S
    if not 1 <= window_s <= MAX_WINDOW_S:
        raise InvalidArgumentError(
            f"result_window_s {window_s} is out of range; use 1 to {MAX_WINDOW_S}, "
            f"or 0 for {DEFAULT_RESULT_WINDOW_S}"
        )
    return window_s
