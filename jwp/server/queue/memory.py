"""In-process job queue, status map and result bus of Standalone mode."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Generic, TypeVar

from jwp.errors import AlreadyExistsError, WaitTimeoutError
from jwp.proto.jobworkerp.data import common_pb2, job_pb2, job_result_pb2

from .base import JobQueue, JobStatusMap, QueuedJob, ResultBus, StreamSubscription, Subscription

logger = logging.getLogger(__name__)

T = TypeVar("T")

PRIORITIES = (common_pb2.PRIORITY_HIGH, common_pb2.PRIORITY_MEDIUM, common_pb2.PRIORITY_LOW)


class _Channel:
    def __init__(self) -> None:
        self.lanes: dict[int, collections.deque[job_pb2.Job]] = {
            priority: collections.deque() for priority in PRIORITIES
        }
        self.uniq_keys: set[str] = set()
        self.not_empty = asyncio.Event()

    def size(self) -> int:
        return sum(len(lane) for lane in self.lanes.values())


class MemoryJobQueue(JobQueue):
    """One queue per channel with a lane per priority; jobs vanish if the process dies."""

    def __init__(self) -> None:
        self._channels: dict[str, _Channel] = collections.defaultdict(_Channel)
        self._processing: dict[int, QueuedJob] = {}
        self._advertised: dict[str, int] = {}

    async def push(self, job: job_pb2.Job, channel: str) -> None:
        queue = self._channels[channel]
        key = job.data.uniq_key if job.data.HasField("uniq_key") else None
        if key is not None:
            if key in queue.uniq_keys:
                raise AlreadyExistsError(
                    f"a pending job with uniq_key {key!r} is already queued in channel "
                    f"{channel!r}; wait for it to finish or use another key"
                )
            queue.uniq_keys.add(key)
        queue.lanes[_lane_of(job)].append(job)
        queue.not_empty.set()

    async def fetch(self, channel: str, max_jobs: int, timeout_s: float) -> list[QueuedJob]:
        queue = self._channels[channel]
        if queue.size() == 0:
            queue.not_empty.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout_s):
                    await queue.not_empty.wait()
        taken: list[QueuedJob] = []
        for priority in PRIORITIES:
            lane = queue.lanes[priority]
            while lane and len(taken) < max_jobs:
                job = lane.popleft()
                queued = QueuedJob(job=job, channel=channel)
                self._processing[job.id.value] = queued
                taken.append(queued)
        if queue.size() == 0:
            queue.not_empty.clear()
        return taken

    async def complete(self, queued: QueuedJob) -> None:
        self._processing.pop(queued.job.id.value, None)
        if queued.job.data.HasField("uniq_key"):
            self._channels[queued.channel].uniq_keys.discard(queued.job.data.uniq_key)

    async def put_back(self, queued: QueuedJob) -> None:
        self._processing.pop(queued.job.id.value, None)
        queue = self._channels[queued.channel]
        queue.lanes[_lane_of(queued.job)].appendleft(queued.job)
        queue.not_empty.set()

    async def remove(self, job_id: int) -> job_pb2.Job | None:
        for queue in self._channels.values():
            for lane in queue.lanes.values():
                for job in lane:
                    if job.id.value == job_id:
                        lane.remove(job)
                        if job.data.HasField("uniq_key"):
                            queue.uniq_keys.discard(job.data.uniq_key)
                        return job
        return None

    async def list_queued(self, channel: str, limit: int | None) -> list[job_pb2.Job]:
        # `get`, not indexing: a lookup of an unknown channel must not add an
        # entry, or callers could grow the dict with every name they try.
        queue = self._channels.get(channel)
        if queue is None:
            return []
        jobs = [job for priority in PRIORITIES for job in queue.lanes[priority]]
        return jobs if limit is None else jobs[:limit]

    async def queued_count(self, channel: str) -> int:
        queue = self._channels.get(channel)
        return queue.size() if queue is not None else 0

    async def advertise_channels(self, channels: dict[str, int]) -> None:
        self._advertised = dict(channels)

    async def served_channels(self) -> dict[str, int]:
        return dict(self._advertised)

    async def queued_ids(self) -> set[int]:
        ids = set(self._processing)
        for queue in self._channels.values():
            for lane in queue.lanes.values():
                ids.update(job.id.value for job in lane)
        return ids

    def drain(self) -> list[tuple[str, job_pb2.Job]]:
        """Remove and return every queued job with its channel (used at shutdown)."""
        drained: list[tuple[str, job_pb2.Job]] = []
        for name, queue in self._channels.items():
            for priority in PRIORITIES:
                drained.extend((name, job) for job in queue.lanes[priority])
                queue.lanes[priority].clear()
            queue.uniq_keys.clear()
        return drained


def _lane_of(job: job_pb2.Job) -> int:
    # Unknown priority values run at MEDIUM rather than being lost.
    priority = job.data.priority
    return priority if priority in PRIORITIES else common_pb2.PRIORITY_MEDIUM


class MemoryJobStatusMap(JobStatusMap):
    def __init__(self) -> None:
        self._statuses: dict[int, int] = {}

    async def set(self, job_id: int, status: int) -> None:
        self._statuses[job_id] = status

    async def get(self, job_id: int) -> int | None:
        return self._statuses.get(job_id)

    async def delete(self, job_id: int) -> None:
        self._statuses.pop(job_id, None)

    async def find_all(self) -> dict[int, int]:
        return dict(self._statuses)


class _QueueSubscription(Subscription):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[job_result_pb2.JobResult] = asyncio.Queue()

    async def get(self, timeout_s: float | None) -> job_result_pb2.JobResult:
        try:
            async with asyncio.timeout(timeout_s):
                return await self.queue.get()
        except TimeoutError:
            raise WaitTimeoutError(f"no result arrived within {timeout_s:g} s") from None


class _StreamQueueSubscription(StreamSubscription):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[common_pb2.ResultOutputItem] = asyncio.Queue()

    def __aiter__(self) -> AsyncIterator[common_pb2.ResultOutputItem]:
        return self._items()

    async def _items(self) -> AsyncIterator[common_pb2.ResultOutputItem]:
        while True:
            item = await self.queue.get()
            yield item
            if item.HasField("end"):
                return


class _Topics(Generic[T]):
    """Subscriber queues per key; a publish reaches the subscribers open at that moment."""

    def __init__(self) -> None:
        self.subscribers: dict[int, set[T]] = collections.defaultdict(set)

    @contextlib.asynccontextmanager
    async def open(self, key: int, subscriber: T) -> AsyncIterator[T]:
        self.subscribers[key].add(subscriber)
        try:
            yield subscriber
        finally:
            remaining = self.subscribers.get(key)
            if remaining is not None:
                remaining.discard(subscriber)
                if not remaining:
                    del self.subscribers[key]

    def of(self, key: int) -> set[T]:
        return self.subscribers.get(key, set())


class MemoryResultBus(ResultBus):
    """Delivers results to waiters in the same process."""

    # Remembered results are capped in number as well as in time, so a burst
    # of broadcast jobs cannot grow memory without bound.
    MAX_REMEMBERED = 10_000

    def __init__(self, remember_s: float) -> None:
        self._remember_s = remember_s
        self._remembered: collections.OrderedDict[int, tuple[float, job_result_pb2.JobResult]] = (
            collections.OrderedDict()
        )
        self._direct: _Topics[_QueueSubscription] = _Topics()
        self._jobs: _Topics[_QueueSubscription] = _Topics()
        self._workers: _Topics[_QueueSubscription] = _Topics()
        self._streams: _Topics[_StreamQueueSubscription] = _Topics()

    def expect_direct(self, job_id: int) -> contextlib.AbstractAsyncContextManager[Subscription]:
        return self._direct.open(job_id, _QueueSubscription())

    async def send_direct(self, result: job_result_pb2.JobResult) -> None:
        for subscriber in self._direct.of(result.data.job_id.value):
            subscriber.queue.put_nowait(result)

    async def publish(self, result: job_result_pb2.JobResult, *, remember: bool) -> None:
        if remember:
            job_id = result.data.job_id.value
            self._remembered.pop(job_id, None)
            self._remembered[job_id] = (time.monotonic() + self._remember_s, result)
            while len(self._remembered) > self.MAX_REMEMBERED:
                self._remembered.popitem(last=False)
        for subscriber in self._jobs.of(result.data.job_id.value):
            subscriber.queue.put_nowait(result)
        for subscriber in self._workers.of(result.data.worker_id.value):
            subscriber.queue.put_nowait(result)

    async def find_latest(self, job_id: int) -> job_result_pb2.JobResult | None:
        entry = self._remembered.get(job_id)
        if entry is None:
            return None
        expires_at, result = entry
        if expires_at < time.monotonic():
            del self._remembered[job_id]
            return None
        return result

    def listen_job(self, job_id: int) -> contextlib.AbstractAsyncContextManager[Subscription]:
        return self._jobs.open(job_id, _QueueSubscription())

    def listen_worker(self, worker_id: int) -> contextlib.AbstractAsyncContextManager[Subscription]:
        return self._workers.open(worker_id, _QueueSubscription())

    async def publish_stream(self, job_id: int, item: common_pb2.ResultOutputItem) -> None:
        for subscriber in self._streams.of(job_id):
            subscriber.queue.put_nowait(item)

    def listen_stream(
        self, job_id: int
    ) -> contextlib.AbstractAsyncContextManager[StreamSubscription]:
        return self._streams.open(job_id, _StreamQueueSubscription())
