"""Job results: stored lookups, and Listen / ListenByWorker for broadcast workers."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from jwp.config import Settings
from jwp.errors import InvalidArgumentError, WaitTimeoutError
from jwp.proto.jobworkerp.data import common_pb2, job_result_pb2, worker_pb2
from jwp.server.queue import ResultBus
from jwp.server.storage import JobResultRepository
from jwp.server.streams import OutputStream
from jwp.server.workers import WorkerManager

logger = logging.getLogger(__name__)

WorkerRef = int | str
"""A worker named by id or by name."""


class ResultManager:
    """Reads stored results and waits for new ones."""

    def __init__(
        self,
        *,
        settings: Settings,
        workers: WorkerManager,
        job_results: JobResultRepository,
        bus: ResultBus,
    ) -> None:
        self._settings = settings
        self._workers = workers
        self._job_results = job_results
        self._bus = bus

    async def find(self, result_id: int) -> job_result_pb2.JobResult | None:
        return await self._job_results.find(result_id)

    async def find_list(self, *, limit: int | None, offset: int) -> list[job_result_pb2.JobResult]:
        return await self._job_results.find_list(limit=limit, offset=offset)

    async def find_list_by_job_id(self, job_id: int) -> list[job_result_pb2.JobResult]:
        return await self._job_results.find_list_by_job_id(job_id)

    async def delete(self, result_id: int) -> bool:
        return await self._job_results.delete(result_id)

    async def count(self) -> int:
        return await self._job_results.count()

    async def listen(
        self, job_id: int, worker_ref: WorkerRef, timeout_ms: int | None
    ) -> job_result_pb2.JobResult:
        """Return the final result of a job, waiting for it if it has not finished yet.

        The subscription opens before the stored result is looked up, so a
        result published in between is not missed.
        """
        await self._broadcasting_worker(worker_ref)
        wait_ms = (
            timeout_ms if timeout_ms else self._settings.job_queue_expire_job_result_seconds * 1000
        )
        async with self._bus.listen_job(job_id) as subscription:
            existing = await self._find_final(job_id)
            if existing is not None:
                return existing
            try:
                while True:
                    result = await subscription.get(wait_ms / 1000)
                    if result.data.status != common_pb2.ERROR_AND_RETRY:
                        return result
            except WaitTimeoutError:
                raise WaitTimeoutError(
                    f"job {job_id} did not finish within {wait_ms} ms; listen again or raise "
                    "the timeout"
                ) from None

    @contextlib.asynccontextmanager
    async def listen_stream(
        self, job_id: int, worker_ref: WorkerRef, timeout_ms: int | None
    ) -> AsyncIterator[OutputStream]:
        """Follow a job's output chunks and final result, as `listen` does for the result.

        A job that has already finished gives a single empty item and its result.
        """
        await self._broadcasting_worker(worker_ref)
        wait_ms = (
            timeout_ms if timeout_ms else self._settings.job_queue_expire_job_result_seconds * 1000
        )
        async with (
            self._bus.listen_stream(job_id) as chunks,
            self._bus.listen_job(job_id) as results,
        ):
            finished = await self._find_final(job_id)
            yield OutputStream(job_id, chunks, results, wait_ms / 1000, finished=finished)

    async def listen_by_worker(
        self,
        worker_ref: WorkerRef,
        on_subscribed: Callable[[], Awaitable[None]] | None = None,
    ) -> AsyncIterator[job_result_pb2.JobResult]:
        """Yield every final result of a worker from now on, until the caller stops.

        `on_subscribed` runs once the subscription is open, so a caller can
        tell its client that results published from then on will arrive.
        """
        worker = await self._broadcasting_worker(worker_ref)
        async with self._bus.listen_worker(worker.id.value) as subscription:
            if on_subscribed is not None:
                await on_subscribed()
            async for result in subscription:
                yield result

    async def _find_final(self, job_id: int) -> job_result_pb2.JobResult | None:
        remembered = await self._bus.find_latest(job_id)
        if remembered is not None:
            return remembered
        stored = await self._job_results.find_latest_by_job_id(job_id)
        if stored is not None and stored.data.status != common_pb2.ERROR_AND_RETRY:
            return stored
        return None

    async def _broadcasting_worker(self, worker_ref: WorkerRef) -> worker_pb2.Worker:
        if isinstance(worker_ref, int):
            worker = await self._workers.find(worker_ref)
            label = f"id {worker_ref}"
        else:
            worker = await self._workers.find_by_name(worker_ref)
            label = f"name {worker_ref!r}"
        if worker is None:
            raise InvalidArgumentError(
                f"worker with {label} not found; list workers with `jwp worker list`"
            )
        if not worker.data.broadcast_results:
            raise InvalidArgumentError(
                f"worker {worker.data.name!r} does not broadcast its results; update it with "
                "broadcast_results set to listen to them"
            )
        return worker
