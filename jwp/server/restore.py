"""Restore of WITH_BACKUP jobs: queue again the jobs whose RDB copy outlived the queue.

A WITH_BACKUP job is kept in the queue and, as a backup, in the RDB with
`run_after_time = 0`. If the queue loses it (a crash of the Standalone
process, a Redis restart without persistence), the row is still there and
restore puts the job back. JobRestoreService runs this on request, and the
server at start-up when STORAGE_RESTORE_AT_STARTUP is set.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from jwp.proto.jobworkerp.data import common_pb2, job_pb2
from jwp.server.dispatch.dispatcher import Dispatcher
from jwp.server.dispatch.run import channel_of
from jwp.server.queue import JobQueue, JobStatusMap
from jwp.server.routing import now_ms
from jwp.server.storage import JobRepository
from jwp.server.workers import WorkerManager

logger = logging.getLogger(__name__)

# Rows read per query while scanning for jobs to restore.
PAGE_SIZE = 2000


@dataclass(frozen=True)
class RestoreOutcome:
    """Jobs put back on their queues, and jobs of non-backup workers made due in the RDB."""

    queued: int
    rescheduled: int


class JobRestorer:
    """Finds backup rows whose job is neither queued nor running, and queues them again."""

    def __init__(
        self,
        *,
        jobs: JobRepository,
        workers: WorkerManager,
        queue: JobQueue,
        statuses: JobStatusMap,
        dispatcher: Dispatcher | None,
    ) -> None:
        self._jobs = jobs
        self._workers = workers
        self._queue = queue
        self._statuses = statuses
        self._dispatcher = dispatcher

    async def find(self, *, include_grabbed: bool, limit: int | None) -> list[job_pb2.Job]:
        """List the jobs a restore would queue again, without changing anything."""
        return [job for job, _ in await self._candidates(include_grabbed, limit)]

    async def restore(self, *, include_grabbed: bool, limit: int | None) -> RestoreOutcome:
        """Queue lost WITH_BACKUP jobs again; make rows of other workers due in the RDB.

        A row whose worker is no longer WITH_BACKUP would never be deleted by
        a queued run, so it is given `run_after_time = now` instead and the
        RDB poller runs it once.
        """
        queued = rescheduled = 0
        for job, backup in await self._candidates(include_grabbed, limit):
            worker = await self._workers.find(job.data.worker_id.value)
            if worker is None:
                continue
            if backup:
                await self._statuses.set(job.id.value, common_pb2.PENDING)
                await self._queue.push(job, channel_of(worker))
                queued += 1
            else:
                job.data.run_after_time = now_ms()
                await self._jobs.upsert(job)
                rescheduled += 1
        if queued or rescheduled:
            logger.info(
                "restored %d WITH_BACKUP job(s) to their queues; made %d other job(s) due",
                queued,
                rescheduled,
            )
        return RestoreOutcome(queued=queued, rescheduled=rescheduled)

    async def _candidates(
        self, include_grabbed: bool, limit: int | None
    ) -> list[tuple[job_pb2.Job, bool]]:
        """Return (job, is a WITH_BACKUP job) for rows to restore, up to `limit`."""
        already_queued = await self._queue.queued_ids()
        candidates: list[tuple[job_pb2.Job, bool]] = []
        after_id = 0
        while limit is None or len(candidates) < limit:
            page = await self._jobs.find_restorable(
                worker_ids=None,
                now_ms=now_ms(),
                include_grabbed=include_grabbed,
                limit=PAGE_SIZE,
                after_id=after_id,
            )
            if not page:
                break
            after_id = page[-1].id.value
            for job in page:
                if job.id.value in already_queued or self._is_running(job.id.value):
                    continue
                worker = await self._workers.find(job.data.worker_id.value)
                if worker is None or worker.data.periodic_interval:
                    continue
                if worker.data.response_type == common_pb2.DIRECT:
                    continue
                candidates.append((job, worker.data.queue_type == common_pb2.WITH_BACKUP))
                if limit is not None and len(candidates) >= limit:
                    break
        return candidates

    def _is_running(self, job_id: int) -> bool:
        return self._dispatcher is not None and self._dispatcher.is_running(job_id)
