"""Where a job waits: the immediate queue, the RDB, or both.

The same rules place new jobs, retries, periodic runs and chained jobs, as
jobworkerp does:

| job | RDB row | immediate queue |
| --- | --- | --- |
| DIRECT worker | no | yes |
| periodic worker, or due later than now + JOB_QUEUE_FETCH_INTERVAL | yes | no |
| WITH_BACKUP worker | yes | yes |
| FORCED_RDB worker | yes (due now) | no |
| NORMAL worker | no | yes |
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from jwp.errors import AlreadyExistsError, InfrastructureError, JwpError
from jwp.proto.jobworkerp.data import common_pb2, job_pb2, worker_pb2
from jwp.server.dispatch.run import channel_of
from jwp.server.queue import JobQueue, JobStatusMap
from jwp.server.storage import JobRepository

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Placement:
    """Where one job is kept until a dispatcher claims it."""

    row: bool
    queue: bool


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class JobRouter:
    """Stores and queues jobs by the placement rules above."""

    def __init__(
        self,
        jobs: JobRepository,
        queue: JobQueue,
        statuses: JobStatusMap,
        fetch_interval_ms: int,
        wake_poller: Callable[[], None] = lambda: None,
    ) -> None:
        self._jobs = jobs
        self._queue = queue
        self._statuses = statuses
        self._fetch_interval_ms = fetch_interval_ms
        self._wake_poller = wake_poller

    def set_poller_waker(self, wake_poller: Callable[[], None]) -> None:
        self._wake_poller = wake_poller

    def placement(self, job: job_pb2.Job, worker: worker_pb2.Worker) -> Placement:
        data = worker.data
        if data.response_type == common_pb2.DIRECT:
            return Placement(row=False, queue=True)
        if data.periodic_interval or job.data.run_after_time > now_ms() + self._fetch_interval_ms:
            return Placement(row=True, queue=False)
        if data.queue_type == common_pb2.WITH_BACKUP:
            return Placement(row=True, queue=True)
        if data.queue_type == common_pb2.FORCED_RDB:
            return Placement(row=True, queue=False)
        return Placement(row=False, queue=True)

    async def place(self, job: job_pb2.Job, worker: worker_pb2.Worker, *, replace: bool) -> None:
        """Store and/or queue a job; `replace` overwrites an existing row with the same id.

        The status goes first, so a dispatcher that takes the job at once
        sets RUNNING after it. A later step that fails undoes the earlier
        ones, so that a rejected enqueue leaves no row behind to run anyway.
        """
        placement = self.placement(job, worker)
        await self._statuses.set(job.id.value, common_pb2.PENDING)
        row_added = False
        try:
            if placement.row:
                await self.store_row(job, replace=replace)
                row_added = not replace
            if placement.queue:
                await self._queue.push(job, channel_of(worker))
        except BaseException:
            await self._undo_place(job.id.value, delete_row=row_added)
            raise

    async def _undo_place(self, job_id: int, *, delete_row: bool) -> None:
        """Remove what a failed `place` stored; each step runs even if another fails."""
        if delete_row:
            try:
                await self._jobs.delete(job_id)
            except InfrastructureError as error:
                # NOTE: the row stays, so the job runs although the enqueue
                # returned an error. It takes Redis and the database failing
                # at once.
                logger.warning(
                    "job %d: removing the row of a failed enqueue failed: %s", job_id, error
                )
        try:
            await self._statuses.delete(job_id)
        except InfrastructureError as error:
            # NOTE: a PENDING status of a job that does not exist then stays
            # in the status map until someone deletes it.
            logger.warning(
                "job %d: removing the status of a failed enqueue failed: %s", job_id, error
            )

    async def place_new(
        self, pairs: Sequence[tuple[job_pb2.Job, worker_pb2.Worker]]
    ) -> list[JwpError | None]:
        """Place new jobs like `place`, and return per job None or the error that kept it out.

        Jobs bound only for an immediate queue get their PENDING statuses in
        one call and are pushed in one call. Jobs that need an RDB row are
        placed one by one. An infrastructure error raises for the whole
        call, and the jobs placed before it stay placed.
        """
        outcomes: list[JwpError | None] = [None] * len(pairs)
        queued: list[int] = []
        for index, (job, worker) in enumerate(pairs):
            if self.placement(job, worker).row:
                try:
                    await self.place(job, worker, replace=False)
                except AlreadyExistsError as error:
                    outcomes[index] = error
            else:
                queued.append(index)
        if not queued:
            return outcomes

        job_ids = [pairs[index][0].id.value for index in queued]
        await self._statuses.set_many(job_ids, common_pb2.PENDING)
        try:
            pushed = await self._queue.push_many(
                [(pairs[index][0], channel_of(pairs[index][1])) for index in queued]
            )
        except BaseException:
            for job_id in job_ids:
                await self._statuses.delete(job_id)
            raise
        for index, conflict in zip(queued, pushed, strict=True):
            if conflict is not None:
                outcomes[index] = conflict
                await self._statuses.delete(pairs[index][0].id.value)
        return outcomes

    async def store_row(self, job: job_pb2.Job, *, replace: bool) -> None:
        if replace:
            await self._jobs.upsert(job)
        else:
            await self._jobs.insert(job)
        self.wake_poller_if_due(job)

    def wake_poller_if_due(self, job: job_pb2.Job) -> None:
        """Wake the RDB poller when a stored job is due before its next regular poll.

        Without this a job due in 300 ms, stored just after a poll, would
        start up to one fetch interval late.
        """
        if job.data.run_after_time <= now_ms() + self._fetch_interval_ms:
            self._wake_poller()
