"""The end of a run: result, retry, next periodic run, chained jobs.

Ordering keeps the delivery contract: a job leaves storage only once its
result is recorded, and a run backed by an RDB row finishes in one
transaction fenced by its grab lease (see `JobRepository.finish_run`).
Results go to storage first, then to a waiting DIRECT caller and to
listeners.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from jwp.ids import SnowflakeGenerator
from jwp.proto.jobworkerp.data import common_pb2, job_pb2, job_result_pb2, worker_pb2
from jwp.server.queue import JobQueue, JobStatusMap, ResultBus
from jwp.server.routing import JobRouter, now_ms
from jwp.server.storage import JobRepository, JobResultRepository

from .observer import JobObserver, JobObservers
from .outcome import ResultStatus, next_periodic_time_ms, retry_delay_ms
from .run import JobRun, channel_of

logger = logging.getLogger(__name__)

ChainEnqueuer = Callable[[worker_pb2.WorkerId, bytes, job_pb2.Job], Awaitable[None]]
"""Enqueue a job for a next worker with the given args, after the parent job."""


class JobRecorder:
    """Records the outcome of each run and schedules what follows it.

    Args:
        pipelined: Whether the queue, the statuses and the bus send their
            commands through one Redis pipeline, so that the calls that end a
            run are worth issuing together. In memory, running them one after
            another is cheaper.
    """

    def __init__(
        self,
        *,
        ids: SnowflakeGenerator,
        jobs: JobRepository,
        job_results: JobResultRepository,
        queue: JobQueue,
        statuses: JobStatusMap,
        bus: ResultBus,
        router: JobRouter,
        pipelined: bool = False,
    ) -> None:
        self._ids = ids
        self._jobs = jobs
        self._job_results = job_results
        self._queue = queue
        self._statuses = statuses
        self._bus = bus
        self._router = router
        self._pipelined = pipelined
        self._enqueue_next: ChainEnqueuer | None = None
        self._observers = JobObservers()

    def add_observer(self, observer: JobObserver) -> None:
        """Tell `observer` about every run whose outcome is recorded from now on."""
        self._observers.add(observer)

    def set_chain_enqueuer(self, enqueue_next: ChainEnqueuer) -> None:
        self._enqueue_next = enqueue_next

    def build_result(
        self,
        job: job_pb2.Job,
        worker: worker_pb2.Worker,
        *,
        status: ResultStatus,
        output: bytes | None,
        start_ms: int,
        end_ms: int,
    ) -> job_result_pb2.JobResult:
        """Build the JobResult of one run; `output` None means it was streamed."""
        data = job.data
        worker_data = worker.data
        result_data = job_result_pb2.JobResultData(
            job_id=job.id,
            worker_id=data.worker_id,
            worker_name=worker_data.name,
            args=data.args,
            status=status,
            retried=data.retried,
            max_retry=worker_data.retry_policy.max_retry,
            priority=data.priority,
            timeout=data.timeout,
            request_streaming=data.request_streaming,
            enqueue_time=data.enqueue_time,
            run_after_time=data.run_after_time,
            start_time=start_ms,
            end_time=end_ms,
            response_type=worker_data.response_type,
            store_success=worker_data.store_success,
            store_failure=worker_data.store_failure,
        )
        if data.HasField("uniq_key"):
            result_data.uniq_key = data.uniq_key
        if output is not None:
            result_data.output.items = output
        return job_result_pb2.JobResult(
            id=job_result_pb2.JobResultId(value=self._ids.next_id()),
            data=result_data,
            metadata=job.metadata,
        )

    async def finish(
        self, run: JobRun, *, status: ResultStatus, output: bytes | None, start_ms: int, end_ms: int
    ) -> job_result_pb2.JobResult | None:
        """Record a run's outcome; return the final result, or None when a retry follows.

        The job's status is WAIT_RESULT while its result is recorded, except
        for a DIRECT job, whose caller waits for the result itself.
        """
        job, worker = run.job, run.worker
        if status == common_pb2.ERROR_AND_RETRY:
            delay_ms = retry_delay_ms(worker.data.retry_policy, job.data.retried)
            if delay_ms is not None:
                await self._mark_waiting(job, worker)
                result = self.build_result(
                    job, worker, status=status, output=output, start_ms=start_ms, end_ms=end_ms
                )
                if await self._retry(run, result, delay_ms, end_ms):
                    self._observers.job_finished(run, status, end_ms - start_ms)
                return None
            status = common_pb2.MAX_RETRY

        result = self.build_result(
            job, worker, status=status, output=output, start_ms=start_ms, end_ms=end_ms
        )
        # Without storage work, WAIT_RESULT goes out with the status removal
        # below, which keeps the order clients see and saves a round trip.
        touches_storage = (
            run.lease_until_ms is not None
            or _should_store(result, worker)
            or worker.data.periodic_interval > 0
        )
        if touches_storage:
            await self._mark_waiting(job, worker)
        lease_kept, next_job = await self._close_run(run, result)
        if not lease_kept:
            return None
        self._observers.job_finished(run, status, end_ms - start_ms)
        # In Scalable mode the queue entry, the status and the delivery go out
        # in one Redis pipeline, in this order, so they cost one round trip.
        waiting = [] if touches_storage else [lambda: self._mark_waiting(job, worker)]
        await self._together(
            *waiting,
            lambda: self._release_queue_entry(run),
            lambda: self._update_status(job, next_job),
            *self._delivery(result, worker),
        )
        if next_job is not None:
            self._router.wake_poller_if_due(next_job)
        if status == common_pb2.SUCCESS and output is not None:
            await self._chain(job, worker, output)
        return result

    async def cancel_pending(self, job: job_pb2.Job, worker: worker_pb2.Worker) -> None:
        """Record the CANCELLED result of a job removed before it ran."""
        moment = now_ms()
        result = self.build_result(
            job,
            worker,
            status=common_pb2.CANCELLED,
            output=b"job cancelled before it started",
            start_ms=moment,
            end_ms=moment,
        )
        if _should_store(result, worker):
            await self._job_results.insert(result)
        await self._statuses.delete(job.id.value)
        cancelled_run = JobRun(job=job, worker=worker, channel=channel_of(worker))
        self._observers.job_finished(cancelled_run, common_pb2.CANCELLED, 0)
        if job.data.request_streaming:
            # A final result of a streaming job always follows its end trailer.
            await self._bus.publish_stream(
                job.id.value, common_pb2.ResultOutputItem(end=common_pb2.Trailer())
            )
        await self._deliver(result, worker)

    async def _retry(
        self, run: JobRun, result: job_result_pb2.JobResult, delay_ms: int, end_ms: int
    ) -> bool:
        """Store the failed attempt and schedule the next; False if the lease was lost."""
        job, worker = run.job, run.worker
        next_job = job_pb2.Job()
        next_job.CopyFrom(job)
        next_job.data.retried = job.data.retried + 1
        next_job.data.run_after_time = end_ms + delay_ms
        next_job.data.ClearField("grabbed_until_time")
        stored = result if worker.data.store_failure else None
        logger.info(
            "job %d of worker %r failed (attempt %d); retrying in %d ms",
            job.id.value,
            worker.data.name,
            job.data.retried + 1,
            delay_ms,
        )
        placement = self._router.placement(next_job, worker)
        if run.lease_until_ms is not None:
            kept = await self._jobs.finish_run(
                job.id.value,
                lease_until_ms=run.lease_until_ms,
                result=stored,
                next_job=next_job if placement.row else None,
            )
            if not kept:
                self._log_lost_lease(run)
                await self._release_queue_entry(run)
                return False
            if placement.row:
                self._router.wake_poller_if_due(next_job)
        else:
            if stored is not None:
                await self._job_results.insert(stored)
            if placement.row:
                await self._router.store_row(next_job, replace=True)
        await self._statuses.set(job.id.value, common_pb2.PENDING)
        if placement.queue and run.queued is not None:
            await self._queue.requeue(run.queued, next_job)
            return True
        await self._release_queue_entry(run)
        if placement.queue:
            await self._queue.push(next_job, run.channel)
        return True

    async def _close_run(
        self, run: JobRun, result: job_result_pb2.JobResult
    ) -> tuple[bool, job_pb2.Job | None]:
        """Store the result and remove or reschedule the job's row.

        Returns whether the run kept its lease (False: record nothing more)
        and the next run of a periodic job, None when no run follows.
        """
        job, worker = run.job, run.worker
        stored = result if _should_store(result, worker) else None
        cancelled = result.data.status == common_pb2.CANCELLED
        next_job = None if cancelled else self._next_periodic_job(job, worker)
        if run.lease_until_ms is not None and not cancelled:
            if not await self._jobs.finish_run(
                job.id.value, lease_until_ms=run.lease_until_ms, result=stored, next_job=next_job
            ):
                self._log_lost_lease(run)
                await self._release_queue_entry(run)
                return False, None
        else:
            if stored is not None:
                await self._job_results.insert(stored)
            if run.lease_until_ms is not None:
                # A cancelled job's row was deleted by the cancel request.
                await self._jobs.delete(job.id.value)
            elif next_job is not None:
                # The worker became periodic after this job was queued.
                await self._router.store_row(next_job, replace=True)
        return True, next_job

    async def _mark_waiting(self, job: job_pb2.Job, worker: worker_pb2.Worker) -> None:
        if worker.data.response_type != common_pb2.DIRECT:
            await self._statuses.set(job.id.value, common_pb2.WAIT_RESULT)

    async def _update_status(self, job: job_pb2.Job, next_job: job_pb2.Job | None) -> None:
        """Mark a job PENDING when its next periodic run follows, else remove its status."""
        if next_job is not None:
            await self._statuses.set(job.id.value, common_pb2.PENDING)
        else:
            await self._statuses.delete(job.id.value)

    def _next_periodic_job(self, job: job_pb2.Job, worker: worker_pb2.Worker) -> job_pb2.Job | None:
        interval_ms = worker.data.periodic_interval
        if not interval_ms:
            return None
        slot_ms, missed = next_periodic_time_ms(job.data.run_after_time, interval_ms, now_ms())
        if missed:
            # INFO, not WARNING: a first run_after_time in the past is also how
            # users align slots (e.g. 1000 with a 3000 ms interval).
            logger.info(
                "periodic job %d of worker %r skipped %d slot(s) already past; next run at %d",
                job.id.value,
                worker.data.name,
                missed,
                slot_ms,
            )
        next_job = job_pb2.Job()
        next_job.CopyFrom(job)
        next_job.data.run_after_time = slot_ms
        next_job.data.retried = 0
        next_job.data.ClearField("grabbed_until_time")
        return next_job

    async def _deliver(self, result: job_result_pb2.JobResult, worker: worker_pb2.Worker) -> None:
        await self._together(*self._delivery(result, worker))

    def _delivery(
        self, result: job_result_pb2.JobResult, worker: worker_pb2.Worker
    ) -> list[Callable[[], Awaitable[None]]]:
        """Return the steps that hand a final result to its DIRECT caller and to listeners."""
        remember = worker.data.broadcast_results
        steps: list[Callable[[], Awaitable[None]]] = []
        if worker.data.response_type == common_pb2.DIRECT:
            steps.append(lambda: self._bus.send_direct(result))
        steps.append(lambda: self._bus.publish(result, remember=remember))
        return steps

    async def _chain(self, job: job_pb2.Job, worker: worker_pb2.Worker, output: bytes) -> None:
        if self._enqueue_next is None or not worker.data.next_workers:
            return
        for next_worker in worker.data.next_workers:
            try:
                await self._enqueue_next(next_worker, output, job)
            except Exception as error:
                logger.warning(
                    "job %d: cannot enqueue the next job for worker %d: %s",
                    job.id.value,
                    next_worker.value,
                    error,
                )

    async def _together(self, *steps: Callable[[], Awaitable[None]]) -> None:
        """Run the steps in order, or concurrently when they share a Redis pipeline.

        Steps that reach Redis in the same event-loop turn go out in one
        pipeline, which runs their commands in the order of the steps. The
        first error is raised once every step has ended.
        """
        if not self._pipelined:
            for step in steps:
                await step()
            return
        outcomes = await asyncio.gather(*(step() for step in steps), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def _release_queue_entry(self, run: JobRun) -> None:
        if run.queued is not None:
            await self._queue.complete(run.queued)

    @staticmethod
    def _log_lost_lease(run: JobRun) -> None:
        logger.warning(
            "job %d of worker %r lost its claim before finishing (deleted, or taken over after "
            "its lease ran out); its result is not recorded",
            run.job_id,
            run.worker.data.name,
        )


def _should_store(result: job_result_pb2.JobResult, worker: worker_pb2.Worker) -> bool:
    if result.data.status == common_pb2.SUCCESS:
        return worker.data.store_success
    return worker.data.store_failure
