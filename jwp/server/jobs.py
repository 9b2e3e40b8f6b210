"""Jobs: admission of new jobs, lookups, queue listings and cancellation.

`enqueue` follows the jobworkerp enqueue path: validate the request,
resolve the worker, check the args against the runner's schema, build the
job, place it (see `routing`), and for a DIRECT worker wait for the result.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jwp.config import DEFAULT_CHANNEL, Settings
from jwp.errors import (
    InvalidArgumentError,
    JwpError,
    ResourceExhaustedError,
    ShuttingDownError,
    WaitTimeoutError,
    WorkerNotFoundError,
)
from jwp.ids import SnowflakeGenerator
from jwp.proto.jobworkerp.data import common_pb2, job_pb2, job_result_pb2, runner_pb2, worker_pb2
from jwp.proto.jobworkerp.service import job_pb2 as job_service_pb2
from jwp.server.dispatch.dispatcher import Dispatcher
from jwp.server.dispatch.recorder import JobRecorder
from jwp.server.dispatch.run import channel_of
from jwp.server.queue import ClusterEvents, JobQueue, JobStatusMap, ResultBus
from jwp.server.routing import JobRouter, now_ms
from jwp.server.runners import codec
from jwp.server.runners.base import RunnerSpec
from jwp.server.runners.registry import RunnerRegistry
from jwp.server.storage import JobRepository
from jwp.server.streams import OutputStream
from jwp.server.workers import WorkerManager

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_MS = 365 * 24 * 3600 * 1000
"""Timeout of a job whose request leaves `timeout` unset: one year, as in jobworkerp."""

MAX_UNIQ_KEY_LENGTH = 128

MAX_RUN_AFTER_TIME_MS = 253_402_300_799_999
"""9999-12-31T23:59:59.999Z in epoch ms: later times do not fit the clients' date types."""

# Time a caller waits past a job's timeout for the result of the timed-out
# run to be recorded, in ms.
RESULT_WAIT_MARGIN_MS = 5000


@dataclass(frozen=True)
class EnqueueOutcome:
    """The id of a new job and, for a DIRECT worker, its final result."""

    job_id: int
    result: job_result_pb2.JobResult | None


class JobManager:
    """Takes job requests and answers questions about jobs."""

    def __init__(
        self,
        *,
        settings: Settings,
        ids: SnowflakeGenerator,
        workers: WorkerManager,
        runners: RunnerRegistry,
        jobs: JobRepository,
        queue: JobQueue,
        statuses: JobStatusMap,
        bus: ResultBus,
        router: JobRouter,
        recorder: JobRecorder,
        dispatcher: Dispatcher | None,
        events: ClusterEvents | None = None,
    ) -> None:
        self._settings = settings
        self._ids = ids
        self._workers = workers
        self._runners = runners
        self._jobs = jobs
        self._queue = queue
        self._statuses = statuses
        self._bus = bus
        self._router = router
        self._recorder = recorder
        self._dispatcher = dispatcher
        self._events = events
        self.accepting = True
        # Handler tasks waiting for a DIRECT result, released at shutdown.
        self._direct_waiters: set[asyncio.Task[Any]] = set()
        self._released = False

    async def enqueue(
        self,
        request: job_service_pb2.JobRequest,
        metadata: Mapping[str, str],
        *,
        streaming: bool = False,
        on_placed: Callable[[int], Awaitable[None]] | None = None,
    ) -> EnqueueOutcome:
        """Validate and place a new job; for a DIRECT worker, wait for its result.

        `on_placed` runs with the job id once the job is placed, before a
        DIRECT wait, so a caller can learn the id of a job it waits for.
        """
        job, worker = await self._admit(request, metadata, streaming=streaming)
        if worker.data.response_type == common_pb2.DIRECT:
            result = await self._enqueue_direct(job, worker, on_placed)
            return EnqueueOutcome(job_id=job.id.value, result=result)
        await self._router.place(job, worker, replace=False)
        if on_placed is not None:
            await on_placed(job.id.value)
        logger.debug("job %d enqueued for worker %r", job.id.value, worker.data.name)
        return EnqueueOutcome(job_id=job.id.value, result=None)

    async def enqueue_batch(
        self, requests: Sequence[job_service_pb2.JobRequest], metadata: Mapping[str, str]
    ) -> list[int | JwpError]:
        """Validate and place several jobs, and return per request its job id or its error.

        Each request is checked as `enqueue` checks it, and a DIRECT worker
        is rejected because no caller waits for its result. The accepted jobs
        are placed together, so immediate jobs cost one queue round trip.
        """
        if not self.accepting:
            raise ShuttingDownError("the server is shutting down and takes no new jobs; retry")
        outcomes: list[int | JwpError] = []
        admitted: list[tuple[int, job_pb2.Job, worker_pb2.Worker]] = []
        for index, request in enumerate(requests):
            try:
                job, worker = await self._admit(request, metadata, streaming=False)
            except JwpError as error:
                outcomes.append(error)
                continue
            if worker.data.response_type == common_pb2.DIRECT:
                outcomes.append(
                    InvalidArgumentError(
                        f"worker {worker.data.name!r} is DIRECT, and a batch does not wait for "
                        "results; enqueue its jobs with JobService.Enqueue"
                    )
                )
                continue
            outcomes.append(job.id.value)
            admitted.append((index, job, worker))

        placed = await self._router.place_new([(job, worker) for _, job, worker in admitted])
        for (index, job, worker), rejection in zip(admitted, placed, strict=True):
            if rejection is not None:
                outcomes[index] = rejection
            else:
                logger.debug("job %d enqueued for worker %r", job.id.value, worker.data.name)
        return outcomes

    @contextlib.asynccontextmanager
    async def enqueue_for_stream(
        self, request: job_service_pb2.JobRequest, metadata: Mapping[str, str]
    ) -> AsyncIterator[OutputStream]:
        """Place a streaming job and follow its output chunks and final result.

        The subscriptions open before the job is placed, so no chunk is
        missed. This works for every worker, not only DIRECT ones: a
        NO_RESULT worker's result is taken from the result topic that
        every final result is published on.
        """
        job, worker = await self._admit(request, metadata, streaming=True)
        job_id = job.id.value
        if worker.data.response_type == common_pb2.DIRECT:
            results = self._bus.expect_direct(job_id)
        else:
            results = self._bus.listen_job(job_id)
        async with self._bus.listen_stream(job_id) as chunks, results as result_subscription:
            await self._router.place(job, worker, replace=False)
            logger.debug("streaming job %d enqueued for worker %r", job_id, worker.data.name)
            yield OutputStream(job_id, chunks, result_subscription, self._wait_s(job))

    async def _admit(
        self, request: job_service_pb2.JobRequest, metadata: Mapping[str, str], *, streaming: bool
    ) -> tuple[job_pb2.Job, worker_pb2.Worker]:
        """Validate a job request against its worker and runner, and build the job."""
        if not self.accepting:
            raise ShuttingDownError("the server is shutting down and takes no new jobs; retry")
        _check_request(request)
        _check_args_size(request.args, self._settings.jwp_max_args_bytes)
        worker = await self.resolve_worker(request)
        spec = self._runner_of(worker)
        _check_streaming(spec, streaming)
        await codec.check_args(spec, request.args)
        job = self._build_job(request, worker, metadata, streaming=streaming)
        await self._check_queue_capacity(job, worker)
        return job, worker

    def _wait_s(self, job: job_pb2.Job) -> float:
        """Return how long a DIRECT or streaming caller waits for a job's result.

        That is until the job is due, plus its timeout, plus a margin: a job
        that times out records its result only after its processes were
        stopped (up to JWP_KILL_GRACE_MS), and the caller should get that
        result rather than a timeout of its own.
        """
        timeout_ms = job.data.timeout or self._settings.job_queue_expire_job_result_seconds * 1000
        delay_ms = max(0, job.data.run_after_time - now_ms())
        margin_ms = self._settings.jwp_kill_grace_ms + RESULT_WAIT_MARGIN_MS
        return (delay_ms + timeout_ms + margin_ms) / 1000

    async def enqueue_next(
        self, worker_id: worker_pb2.WorkerId, args: bytes, parent: job_pb2.Job
    ) -> None:
        """Enqueue a chained job for `worker_id` with a finished job's output as args."""
        worker = await self._workers.find(worker_id.value)
        if worker is None:
            raise WorkerNotFoundError(f"next worker {worker_id.value} no longer exists")
        job = job_pb2.Job(
            id=job_pb2.JobId(value=self._ids.next_id()),
            data=job_pb2.JobData(
                worker_id=worker.id,
                args=args,
                enqueue_time=now_ms(),
                priority=parent.data.priority,
                timeout=parent.data.timeout,
            ),
            metadata=parent.metadata,
        )
        await self._router.place(job, worker, replace=False)
        logger.info(
            "job %d enqueued for next worker %r after job %d",
            job.id.value,
            worker.data.name,
            parent.id.value,
        )

    async def run_for_result(
        self,
        worker: worker_pb2.Worker,
        args: bytes,
        metadata: Mapping[str, str],
        *,
        timeout_ms: int,
    ) -> job_result_pb2.JobResult:
        """Enqueue a job for `worker` and wait for its final result, whatever its response type.

        For callers inside the server, such as workflow run tasks. The job is
        placed like any job of the worker, so channels, retries and timeouts
        apply. The wait ends after `timeout_ms` (0: no limit) with
        WaitTimeoutError; then, or when the caller is cancelled, the job is
        cancelled too.
        """
        if not self.accepting:
            raise ShuttingDownError("the server is shutting down and takes no new jobs; retry")
        spec = self._runner_of(worker)
        _check_streaming(spec, False)
        channel = channel_of(worker)
        # A Standalone process is the only one that runs jobs, so a channel it
        # does not run never runs. In Scalable mode another worker process may.
        standalone = self._events is None
        if standalone and self._dispatcher is not None and channel not in self._dispatcher.channels:
            raise InvalidArgumentError(
                f"worker {worker.data.name!r} uses channel {channel!r}, which this server does "
                "not serve, so its job would never run; add the channel to WORKER_CHANNELS"
            )
        await codec.check_args(spec, args)
        request = job_service_pb2.JobRequest(worker_id=worker.id, args=args, timeout=timeout_ms)
        job = self._build_job(request, worker, metadata, streaming=False)
        job_id = job.id.value
        async with self._bus.listen_job(job_id) as subscription:
            await self._router.place(job, worker, replace=False)
            try:
                return await subscription.get(timeout_ms / 1000 if timeout_ms else None)
            except WaitTimeoutError:
                await self.delete(job_id)
                raise WaitTimeoutError(
                    f"job {job_id} of worker {worker.data.name!r} did not finish within "
                    f"{timeout_ms} ms and was cancelled"
                ) from None
            except asyncio.CancelledError:
                await asyncio.shield(self.delete(job_id))
                raise

    async def resolve_worker(self, request: job_service_pb2.JobRequest) -> worker_pb2.Worker:
        which = request.WhichOneof("worker")
        if which == "worker_id":
            worker = await self._workers.find(request.worker_id.value)
            label = f"id {request.worker_id.value}"
        else:
            worker = await self._workers.find_by_name(request.worker_name)
            label = f"name {request.worker_name!r}"
        if worker is None:
            raise WorkerNotFoundError(
                f"worker with {label} not found; create it with `jwp worker create` "
                "or list workers with `jwp worker list`"
            )
        return worker

    def _runner_of(self, worker: worker_pb2.Worker) -> RunnerSpec:
        spec = self._runners.find(worker.data.runner_id.value)
        if spec is None:
            raise InvalidArgumentError(
                f"worker {worker.data.name!r} uses runner {worker.data.runner_id.value}, "
                "which this server does not have; update the worker's runner_id"
            )
        return spec

    def _build_job(
        self,
        request: job_service_pb2.JobRequest,
        worker: worker_pb2.Worker,
        metadata: Mapping[str, str],
        *,
        streaming: bool,
    ) -> job_pb2.Job:
        data = job_pb2.JobData(
            worker_id=worker.id,
            args=request.args,
            enqueue_time=now_ms(),
            run_after_time=request.run_after_time,
            retried=0,
            priority=request.priority
            if request.HasField("priority")
            else common_pb2.PRIORITY_MEDIUM,
            timeout=request.timeout if request.HasField("timeout") else DEFAULT_TIMEOUT_MS,
            request_streaming=streaming,
        )
        if request.HasField("uniq_key"):
            data.uniq_key = request.uniq_key
        direct = worker.data.response_type == common_pb2.DIRECT
        if direct and data.run_after_time > 0:
            raise InvalidArgumentError(
                "run_after_time cannot be used with a DIRECT worker, because the caller would "
                "wait until then; use a NO_RESULT worker and listen for the result"
            )
        needs_time = (
            worker.data.periodic_interval or worker.data.queue_type == common_pb2.FORCED_RDB
        )
        if needs_time and data.run_after_time == 0 and not direct:
            data.run_after_time = data.enqueue_time
        return job_pb2.Job(
            id=job_pb2.JobId(value=self._ids.next_id()), data=data, metadata=dict(metadata)
        )

    async def _check_queue_capacity(self, job: job_pb2.Job, worker: worker_pb2.Worker) -> None:
        """Reject a job bound for a channel queue that is full (JWP_MAX_QUEUED_JOBS_PER_CHANNEL).

        Only new jobs are checked: retries, periodic runs, chained jobs and
        restored jobs were admitted before and are never turned away.
        """
        cap = self._settings.jwp_max_queued_jobs_per_channel
        if cap is None or not self._router.placement(job, worker).queue:
            return
        channel = channel_of(worker)
        queued = await self._queue.queued_count(channel)
        if queued >= cap:
            raise ResourceExhaustedError(
                f"channel {channel!r} already has {queued} queued jobs, the cap set by "
                f"JWP_MAX_QUEUED_JOBS_PER_CHANNEL ({cap}); retry after some have run"
            )

    async def _enqueue_direct(
        self,
        job: job_pb2.Job,
        worker: worker_pb2.Worker,
        on_placed: Callable[[int], Awaitable[None]] | None,
    ) -> job_result_pb2.JobResult:
        wait_s = self._wait_s(job)
        async with self._bus.expect_direct(job.id.value) as subscription:
            await self._router.place(job, worker, replace=False)
            if on_placed is not None:
                await on_placed(job.id.value)
            task = asyncio.current_task()
            assert task is not None
            self._direct_waiters.add(task)
            try:
                return await subscription.get(wait_s)
            except WaitTimeoutError:
                raise WaitTimeoutError(
                    f"job {job.id.value} did not finish within {wait_s * 1000:.0f} ms; its "
                    "result, if stored, can be read later with `jwp job-result list-by-job-id`"
                ) from None
            except asyncio.CancelledError:
                if not self._released:
                    raise
                task.uncancel()
                raise ShuttingDownError(
                    f"the server stopped before job {job.id.value} finished; a stopping server "
                    "does not keep DIRECT jobs, so enqueue it again"
                ) from None
            finally:
                self._direct_waiters.discard(task)

    def release_direct_waiters(self) -> None:
        """End every DIRECT wait with a shutdown error; the server stops without their jobs."""
        self._released = True
        for task in list(self._direct_waiters):
            task.cancel()

    async def find(self, job_id: int) -> job_pb2.Job | None:
        return await self._jobs.find(job_id)

    async def find_list(self, *, limit: int | None, offset: int) -> list[job_pb2.Job]:
        return await self._jobs.find_list(limit=limit, offset=offset)

    async def count(self) -> int:
        return await self._jobs.count()

    async def delete(self, job_id: int) -> bool:
        """Delete a job: cancel it when pending or running; False when it is unknown.

        A pending job gets a CANCELLED result at once; a running job is
        stopped and records CANCELLED when its runner has stopped.
        """
        running = self._dispatcher.cancel(job_id) if self._dispatcher is not None else False
        row = await self._jobs.find(job_id)
        row_deleted = await self._jobs.delete(job_id) if row is not None else False
        queued = await self._queue.remove(job_id)
        if not running and queued is None:
            running = await self._cancel_elsewhere(job_id, row)
        pending = queued or row
        if pending is not None and not running:
            worker = await self._workers.find(pending.data.worker_id.value)
            if worker is not None:
                await self._recorder.cancel_pending(pending, worker)
            else:
                await self._statuses.delete(job_id)
        found = row_deleted or queued is not None or running
        if found:
            logger.info(
                "job %d deleted (%s)", job_id, "running, stopping it" if running else "pending"
            )
        return found

    async def _cancel_elsewhere(self, job_id: int, row: job_pb2.Job | None) -> bool:
        """Ask the other processes to stop a job another one holds; True if one does.

        Scalable mode shares the status map. Another process holds the job
        when it is RUNNING or WAIT_RESULT, when its RDB row carries a live
        claim, or when it is PENDING yet neither queued nor stored, which
        means a dispatcher fetched it and has not started it yet. That
        process records CANCELLED.
        """
        if self._events is None:
            return False
        status = await self._statuses.get(job_id)
        row_claimed = (
            row is not None
            and row.data.HasField("grabbed_until_time")
            and row.data.grabbed_until_time > now_ms()
        )
        fetched = status == common_pb2.PENDING and row is None
        if status not in (common_pb2.RUNNING, common_pb2.WAIT_RESULT) and not (
            row_claimed or fetched
        ):
            return False
        await self._events.publish_cancel(job_id)
        return True

    async def find_queue_list(
        self, *, channel: str | None, limit: int | None
    ) -> list[tuple[job_pb2.Job, int | None]]:
        jobs = await self._queue.list_queued(channel or DEFAULT_CHANNEL, limit)
        return [(job, await self._statuses.get(job.id.value)) for job in jobs]

    async def find_status(self, job_id: int) -> int | None:
        return await self._statuses.get(job_id)

    async def find_all_statuses(self) -> dict[int, int]:
        return await self._statuses.find_all()

    def channel_of_worker(self, worker: worker_pb2.Worker) -> str:
        return channel_of(worker)


def _check_request(request: job_service_pb2.JobRequest) -> None:
    which = request.WhichOneof("worker")
    if which is None:
        raise InvalidArgumentError("worker is missing; set worker_id or worker_name")
    if which == "worker_name" and not request.worker_name.strip():
        raise InvalidArgumentError("worker_name is empty; give the name of a worker")
    if request.HasField("run_after_time") and request.run_after_time > MAX_RUN_AFTER_TIME_MS:
        raise InvalidArgumentError(
            f"run_after_time {request.run_after_time} is after the year 9999; give epoch "
            "milliseconds"
        )
    if request.HasField("run_after_time") and request.run_after_time < 0:
        raise InvalidArgumentError(
            f"run_after_time {request.run_after_time} is negative; give epoch milliseconds, "
            "or 0 to run now"
        )
    if request.HasField("priority") and request.priority not in common_pb2.Priority.values():
        names = ", ".join(common_pb2.Priority.keys())
        raise InvalidArgumentError(f"priority {request.priority} is not one of {names}")
    if request.HasField("uniq_key"):
        if not request.uniq_key:
            raise InvalidArgumentError("uniq_key is empty; leave it unset or give a key")
        if len(request.uniq_key) > MAX_UNIQ_KEY_LENGTH:
            raise InvalidArgumentError(
                f"uniq_key is {len(request.uniq_key)} characters long; "
                f"use at most {MAX_UNIQ_KEY_LENGTH}"
            )
    if request.HasField("timeout") and request.timeout > 2**63 - 1:
        raise InvalidArgumentError(f"timeout {request.timeout} ms is too large")


def _check_args_size(args: bytes, limit: int) -> None:
    if len(args) > limit:
        raise InvalidArgumentError(
            f"args are {len(args)} bytes, over the limit of {limit} bytes "
            "(JWP_MAX_ARGS_BYTES); pass large data by reference, e.g. a URL or a file path"
        )


def _check_streaming(spec: RunnerSpec, streaming: bool) -> None:
    if streaming and not spec.streams:
        raise InvalidArgumentError(
            f"runner {spec.name} does not stream its output; use Enqueue instead of "
            "EnqueueForStream"
        )
    if not streaming and spec.output_type == runner_pb2.STREAMING:
        raise InvalidArgumentError(
            f"runner {spec.name} only streams its output; use EnqueueForStream"
        )
