"""Runs one claimed job: waits for its time, runs the runner under the timeout, records.

Every start, finish and failure is logged with the job id, worker and
channel. Cancellation has three causes (see `StopReason`) and each ends
differently: a cancel request records a CANCELLED result, a shutdown puts
the job back so the attempt does not count, and a lost claim records
nothing because another process now owns the job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from jwp.errors import (
    FatalRunnerError,
    InfrastructureError,
    JobCancelledError,
    JobTimeoutError,
    OutputTooLargeError,
    RunnerError,
)
from jwp.logs import job_context
from jwp.proto.jobworkerp.data import common_pb2
from jwp.server.queue import JobQueue, JobStatusMap, ResultBus
from jwp.server.routing import now_ms
from jwp.server.runners.registry import RunnerRegistry
from jwp.server.storage import JobRepository

from .outcome import ResultStatus, retry_delay_ms, status_of_error
from .pools import RunnerInstances
from .recorder import JobRecorder
from .run import JobRun, StopReason

logger = logging.getLogger(__name__)


class JobExecutor:
    """Turns a JobRun into a recorded outcome."""

    def __init__(
        self,
        *,
        runners: RunnerRegistry,
        instances: RunnerInstances,
        recorder: JobRecorder,
        jobs: JobRepository,
        queue: JobQueue,
        statuses: JobStatusMap,
        bus: ResultBus,
        lease_ms: int,
        max_output_bytes: int | None = None,
    ) -> None:
        self._runners = runners
        self._instances = instances
        self._recorder = recorder
        self._jobs = jobs
        self._queue = queue
        self._statuses = statuses
        self._bus = bus
        self._lease_ms = lease_ms
        self._max_output_bytes = max_output_bytes

    async def execute(self, run: JobRun) -> None:
        """Run a job to its recorded end; re-raise CancelledError only on shutdown or lost claim."""
        job, worker = run.job, run.worker
        with job_context(job_id=run.job_id, worker=worker.data.name, channel=run.channel):
            if not await self._claim_backup_row(run):
                return
            await self._statuses.set(run.job_id, common_pb2.RUNNING)
            start_ms = now_ms()
            try:
                if run.stop_reason is StopReason.CANCEL_REQUEST:
                    raise JobCancelledError(f"job {run.job_id} was cancelled before it started")
                async with self._keep_lease(run):
                    await _wait_until_due(job.data.run_after_time)
                    start_ms = now_ms()
                    logger.info("job %d started (attempt %d)", run.job_id, job.data.retried + 1)
                    output = await self._run_runner(run)
                self._check_output_size(run, output)
                status = common_pb2.SUCCESS
            except RunnerError as error:
                status, output = status_of_error(error), str(error).encode()
            except asyncio.CancelledError:
                if run.stop_reason is not StopReason.CANCEL_REQUEST:
                    await self.put_back(run)
                    raise
                _uncancel_current_task()
                status, output = common_pb2.CANCELLED, b"job cancelled while running"
            except Exception as error:
                logger.exception("job %d: runner raised an unexpected error", run.job_id)
                status = common_pb2.OTHER_ERROR
                output = f"runner failed unexpectedly: {type(error).__name__}: {error}".encode()

            end_ms = now_ms()
            run.recording = True
            await self._end_stream(run, status)
            result = await self._recorder.finish(
                run, status=status, output=output, start_ms=start_ms, end_ms=end_ms
            )
            _log_finish(run, status, end_ms - start_ms, output, retried=result is None)

    async def _run_runner(self, run: JobRun) -> bytes | None:
        job, worker = run.job, run.worker
        spec = self._runners.find(worker.data.runner_id.value)
        if spec is None:
            raise FatalRunnerError(
                f"runner {worker.data.runner_id.value} of worker {worker.data.name!r} is not "
                "available in this process"
            )
        timeout_ms = job.data.timeout
        try:
            async with asyncio.timeout(timeout_ms / 1000 if timeout_ms else None):
                async with self._instances.instance(worker, spec, run.channel) as instance:
                    # NOTE: streamed chunks are not checked against
                    # JWP_MAX_RESULT_OUTPUT_BYTES; only JWP_MAX_MESSAGE_BYTES bounds each one.
                    if job.data.request_streaming and spec.streams:
                        async for chunk in instance.run_stream(job.data.args, job.metadata):
                            await self._bus.publish_stream(
                                run.job_id, common_pb2.ResultOutputItem(data=chunk)
                            )
                        return None
                    return await instance.run(job.data.args, job.metadata)
        except TimeoutError:
            raise JobTimeoutError(
                f"job {run.job_id} timed out after {timeout_ms} ms and was stopped"
            ) from None

    async def _end_stream(self, run: JobRun, status: ResultStatus) -> None:
        """Publish the end trailer of a streaming job's output, unless a retry follows.

        Every final result of a streaming job comes after its end trailer,
        also when the run failed, so a client that follows the output reads
        chunks until the trailer and then takes the result. A run that will be
        retried publishes no trailer: the chunks of the next attempt follow.
        """
        if not run.job.data.request_streaming:
            return
        policy = run.worker.data.retry_policy
        retries = retry_delay_ms(policy, run.job.data.retried) is not None
        if status == common_pb2.ERROR_AND_RETRY and retries:
            return
        await self._bus.publish_stream(
            run.job_id, common_pb2.ResultOutputItem(end=common_pb2.Trailer())
        )

    def _check_output_size(self, run: JobRun, output: bytes | None) -> None:
        """Fail a run whose output is over the limit rather than store a cut protobuf message.

        A truncated message would not decode with the runner's result schema,
        so the job fails (OTHER_ERROR, not retried) with a message naming both sizes.
        """
        limit = self._max_output_bytes
        if output is None or limit is None or len(output) <= limit:
            return
        raise OutputTooLargeError(
            f"job {run.job_id} produced {len(output)} bytes of output, over the limit of "
            f"{limit} bytes (JWP_MAX_RESULT_OUTPUT_BYTES); make the job write less, or raise "
            "the limit"
        )

    async def _claim_backup_row(self, run: JobRun) -> bool:
        """Grab the RDB row of a WITH_BACKUP job taken from the queue; False to skip it.

        The row may already be gone (the job was deleted) or grabbed by a
        process that restored it, and then this copy must not run.
        """
        worker = run.worker
        if (
            run.queued is None
            or run.stop_reason is StopReason.CANCEL_REQUEST
            or run.lease_until_ms is not None
            or worker.data.queue_type != common_pb2.WITH_BACKUP
            or worker.data.response_type == common_pb2.DIRECT
        ):
            return True
        current = (
            run.job.data.grabbed_until_time if run.job.data.HasField("grabbed_until_time") else 0
        )
        lease = now_ms() + self._lease_ms
        if await self._jobs.grab(run.job_id, expected_until_ms=current, new_until_ms=lease):
            run.lease_until_ms = lease
            return True
        logger.info("job %d skipped: its backup row was deleted or claimed elsewhere", run.job_id)
        await self._queue.complete(run.queued)
        return False

    @contextlib.asynccontextmanager
    async def _keep_lease(self, run: JobRun) -> AsyncIterator[None]:
        """Renew the run's grab lease every third of its length while the block runs."""
        if run.lease_until_ms is None:
            yield
            return
        job_task = asyncio.current_task()
        assert job_task is not None
        renewer = asyncio.create_task(self._renew_lease(run, job_task))
        try:
            yield
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer

    async def _renew_lease(self, run: JobRun, job_task: asyncio.Task[None]) -> None:
        while True:
            await asyncio.sleep(self._lease_ms / 3000)
            assert run.lease_until_ms is not None
            new_until = now_ms() + self._lease_ms
            try:
                renewed = await self._jobs.extend_grab(
                    run.job_id, current_until_ms=run.lease_until_ms, new_until_ms=new_until
                )
            except Exception as error:
                # The database may come back before the lease runs out, so
                # keep running and try again at the next renewal.
                logger.warning("job %d: renewing its claim failed: %s", run.job_id, error)
                continue
            if renewed:
                run.lease_until_ms = new_until
                continue
            logger.warning(
                "job %d: its claim was lost (job deleted or taken over); stopping it", run.job_id
            )
            run.stop_reason = StopReason.LEASE_LOST
            job_task.cancel()
            return

    async def put_back(self, run: JobRun, reason: str | None = None) -> bool:
        """Put a job back to run again, or drop it when its claim was lost to another process.

        `reason` is the cause written to the log; by default the run's stop reason.
        Returns False when Redis or the database failed on the way, so the
        caller can try again once they are back; the failure is logged.
        """
        if reason is None:
            reason = run.stop_reason.value if run.stop_reason else "cancelled"
        try:
            if run.stop_reason is StopReason.LEASE_LOST:
                if run.queued is not None:
                    await self._queue.complete(run.queued)
                return True
            if run.lease_until_ms is not None:
                await self._jobs.release_grab(run.job_id, current_until_ms=run.lease_until_ms)
            if run.queued is not None:
                await self._queue.put_back(run.queued)
            await self._statuses.set(run.job_id, common_pb2.PENDING)
            if run.worker.data.response_type == common_pb2.DIRECT and reason == "server shutdown":
                # A stopping server does not keep DIRECT jobs: their callers
                # are told to enqueue them again.
                logger.info("job %d of a DIRECT worker stopped by the server shutdown", run.job_id)
            else:
                logger.info("job %d put back (%s); it will run again", run.job_id, reason)
        except InfrastructureError as error:
            logger.warning("job %d: putting it back after %s failed: %s", run.job_id, reason, error)
            return False
        except Exception:
            logger.exception("job %d: putting it back after %s failed", run.job_id, reason)
            return False
        return True


async def _wait_until_due(run_after_time_ms: int) -> None:
    delay_ms = run_after_time_ms - now_ms()
    if delay_ms > 0:
        await asyncio.sleep(delay_ms / 1000)


def _uncancel_current_task() -> None:
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()


def _log_finish(
    run: JobRun, status: ResultStatus, elapsed_ms: int, output: bytes | None, *, retried: bool
) -> None:
    status_name = common_pb2.ResultStatus.Name(status)
    if status == common_pb2.SUCCESS:
        logger.info("job %d finished: SUCCESS in %d ms", run.job_id, elapsed_ms)
    elif retried:
        pass  # the recorder logged the retry
    else:
        detail = (output or b"")[:200].decode("utf-8", "replace")
        logger.warning(
            "job %d failed: %s after %d ms: %s", run.job_id, status_name, elapsed_ms, detail
        )
