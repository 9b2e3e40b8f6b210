"""The RDB poller: claims due jobs of the RDB for this process's channels.

Scheduled, periodic and FORCED_RDB jobs wait in the `job` table. Every
JOB_QUEUE_FETCH_INTERVAL ms the poller lists, per channel, jobs due before
the next poll (so they start on time, waiting in their slot), and claims
each with a conditional update of its grab lease, so that of several
processes reading the same row exactly one runs it. It polls at once when
woken, which a new job due now does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from jwp.server.routing import now_ms
from jwp.server.storage import JobRepository
from jwp.server.workers import WorkerManager

from .dispatcher import Dispatcher
from .run import JobRun

logger = logging.getLogger(__name__)


class RdbPoller:
    """Feeds due RDB jobs into the dispatcher's channel slots."""

    def __init__(
        self,
        *,
        jobs: JobRepository,
        workers: WorkerManager,
        dispatcher: Dispatcher,
        interval_ms: int,
        lease_ms: int,
    ) -> None:
        self._jobs = jobs
        self._workers = workers
        self._dispatcher = dispatcher
        self._interval_ms = interval_ms
        self._lease_ms = lease_ms
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="rdb poller")

    def wake(self) -> None:
        """Poll now instead of at the next tick."""
        self._wake.set()

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _loop(self) -> None:
        failed_polls = 0
        while True:
            self._wake.clear()
            try:
                await self.poll_once()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failed_polls += 1
                # One warning per outage, not one per poll.
                log = logger.warning if failed_polls == 1 else logger.debug
                log(
                    "polling the RDB for due jobs failed: %s; retrying every %d ms",
                    error,
                    self._interval_ms,
                )
            else:
                if failed_polls:
                    logger.info("polling the RDB works again after %d failed poll(s)", failed_polls)
                failed_polls = 0
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval_ms / 1000):
                    await self._wake.wait()

    async def poll_once(self) -> int:
        """Claim due jobs for every channel with free slots; return how many were claimed."""
        claimed = 0
        for channel in self._dispatcher.channels.values():
            free = channel.slots.free
            if free <= 0:
                continue
            now = now_ms()
            due = await self._jobs.find_due(
                channel=channel.name,
                due_before_ms=now + self._interval_ms,
                now_ms=now,
                limit=free,
            )
            for job in due:
                worker = await self._workers.find(job.data.worker_id.value)
                if worker is None:
                    continue
                expected = (
                    job.data.grabbed_until_time if job.data.HasField("grabbed_until_time") else 0
                )
                lease = max(now, job.data.run_after_time) + self._lease_ms
                if not await self._jobs.grab(
                    job.id.value, expected_until_ms=expected, new_until_ms=lease
                ):
                    continue
                self._dispatcher.reserve(job.id.value)
                claimed += 1
                await self._dispatcher.submit(
                    JobRun(job=job, worker=worker, channel=channel.name, lease_until_ms=lease)
                )
        return claimed
