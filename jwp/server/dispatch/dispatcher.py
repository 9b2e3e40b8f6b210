"""Channel dispatchers: take jobs from the queue and the RDB poller, run them in slots.

Each channel this process serves has a slot pool of its concurrency and a
fetch loop on the immediate queue; the RDB poller feeds the same slots.
Running jobs are tracked by id, so a cancel request reaches them and a
shutdown can wait for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from jwp.errors import InfrastructureError
from jwp.server.queue import JobQueue, JobStatusMap, QueuedJob
from jwp.server.workers import WorkerManager

from .executor import JobExecutor
from .run import JobRun, StopReason
from .slots import SlotPool

logger = logging.getLogger(__name__)

# How long one fetch waits on an empty queue before the loop checks again
# whether it should stop, in s.
FETCH_WAIT_S = 1.0


RECORDING_FAILED = "recording its outcome failed"
"""Put-back reason of a run whose result could not be stored, for the log."""

# After a run's outcome could not be recorded because Redis or the database
# is down, its job is put back only after this delay, in s, and the channel
# takes no new job until then. It doubles with each failure in a row, up to
# the maximum, so an outage costs a few reruns rather than a hot loop of runs
# whose results cannot be stored.
RECORDING_BACKOFF_MIN_S = 0.5
RECORDING_BACKOFF_MAX_S = 10.0


@dataclass
class ChannelState:
    """The slots and fetch loop of one channel."""

    name: str
    slots: SlotPool
    fetch_task: asyncio.Task[None] | None = None
    started: int = 0
    finished: int = 0
    unreturned: list[JobRun] = field(default_factory=list)
    """Runs whose put-back failed (Redis or the database was down), retried by the fetch loop."""
    recording_failures: int = 0
    """Runs in a row whose outcome could not be recorded; sets the backoff."""
    paused_until_s: float = 0.0
    """Event loop time before which the fetch loop takes no job (recording backoff)."""

    def recording_failed(self) -> float:
        """Count a failed recording; return the backoff delay in s and pause fetching for it."""
        self.recording_failures += 1
        exponent = min(self.recording_failures - 1, 10)
        delay_s = min(RECORDING_BACKOFF_MAX_S, RECORDING_BACKOFF_MIN_S * 2**exponent)
        loop_time_s = asyncio.get_running_loop().time()
        self.paused_until_s = max(self.paused_until_s, loop_time_s + delay_s)
        return float(delay_s)


@dataclass
class _Running:
    run: JobRun
    task: asyncio.Task[None]


@dataclass
class DispatchCounts:
    """Totals for the shutdown log line."""

    started: int = 0
    finished: int = 0
    put_back: int = 0


class Dispatcher:
    """Runs jobs of the channels this process serves, never above a channel's concurrency."""

    def __init__(
        self,
        *,
        channel_concurrencies: dict[str, int],
        queue: JobQueue,
        statuses: JobStatusMap,
        workers: WorkerManager,
        executor: JobExecutor,
    ) -> None:
        self.channels = {
            name: ChannelState(name=name, slots=SlotPool(concurrency))
            for name, concurrency in channel_concurrencies.items()
        }
        self._queue = queue
        self._statuses = statuses
        self._workers = workers
        self._executor = executor
        self._running: dict[int, _Running] = {}
        # Jobs claimed but not yet started (waiting for a slot), and those of
        # them a cancel request reached.
        self._starting: set[int] = set()
        self._cancel_requested: set[int] = set()
        self._stopping = False
        self.counts = DispatchCounts()

    def start(self) -> None:
        for channel in self.channels.values():
            channel.fetch_task = asyncio.create_task(
                self._fetch_loop(channel), name=f"fetch {channel.name}"
            )

    @property
    def running_count(self) -> int:
        return len(self._running)

    def running_in(self, channel: str) -> int:
        state = self.channels.get(channel)
        return state.slots.in_use if state is not None else 0

    def is_running(self, job_id: int) -> bool:
        return job_id in self._running

    def reserve(self, job_id: int) -> None:
        """Note a job just claimed, so a cancel reaches it before it is submitted.

        Call it with no await between the claim and this call; `submit` ends
        the reservation.
        """
        self._starting.add(job_id)

    async def submit(self, run: JobRun) -> None:
        """Take a slot of the run's channel (waiting for one) and start the job.

        A job cancelled while it waited for its slot still starts, with its
        stop reason set, so that the executor records CANCELLED instead of
        running it.
        """
        channel = self.channels[run.channel]
        try:
            await channel.slots.acquire()
        finally:
            self._starting.discard(run.job_id)
        if run.job_id in self._cancel_requested:
            self._cancel_requested.discard(run.job_id)
            run.stop_reason = StopReason.CANCEL_REQUEST
        task = asyncio.create_task(self._execute(run, channel), name=f"job {run.job_id}")
        self._running[run.job_id] = _Running(run=run, task=task)
        channel.started += 1
        self.counts.started += 1

    def cancel(self, job_id: int) -> bool:
        """Stop a running or just-claimed job with a CANCELLED result; False if not here."""
        running = self._running.get(job_id)
        if running is None:
            if job_id in self._starting:
                self._cancel_requested.add(job_id)
                return True
            return False
        if running.run.recording:
            # The job has ended; its recorded result is the outcome.
            return True
        running.run.stop_reason = StopReason.CANCEL_REQUEST
        running.task.cancel()
        return True

    async def stop_fetching(self) -> None:
        """Stop taking new jobs; running ones continue."""
        self._stopping = True
        tasks = [channel.fetch_task for channel in self.channels.values() if channel.fetch_task]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def drain(self, grace_s: float) -> None:
        """Wait up to `grace_s` for running jobs, then put the rest back."""
        pending = [running.task for running in self._running.values()]
        if pending:
            logger.info("waiting up to %.1f s for %d running job(s)", grace_s, len(pending))
            await asyncio.wait(pending, timeout=grace_s)
        leftover = list(self._running.values())
        # Runs that are recording their outcome are left to finish it.
        stopped = [running for running in leftover if not running.run.recording]
        for running in stopped:
            running.run.stop_reason = StopReason.SHUTDOWN
            running.task.cancel()
        if leftover:
            await asyncio.gather(*(running.task for running in leftover), return_exceptions=True)
        if stopped:
            self.counts.put_back += len(stopped)
            logger.info("%d job(s) did not finish in time and were put back", len(stopped))

    async def _fetch_loop(self, channel: ChannelState) -> None:
        while not self._stopping:
            await self._return_unreturned(channel)
            await _sleep_until(channel.paused_until_s)
            await channel.slots.wait_free()
            try:
                taken = await self._queue.fetch(channel.name, channel.slots.free, FETCH_WAIT_S)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.warning("fetching jobs of channel %r failed: %s", channel.name, error)
                await asyncio.sleep(FETCH_WAIT_S)
                continue
            for queued in taken:
                self.reserve(queued.job.id.value)
            for queued in taken:
                await self._submit_queued(queued)

    async def _submit_queued(self, queued: QueuedJob) -> None:
        job = queued.job
        worker = await self._workers.find(job.data.worker_id.value)
        if worker is None:
            logger.warning(
                "job %d dropped: its worker %d no longer exists",
                job.id.value,
                job.data.worker_id.value,
            )
            self._starting.discard(job.id.value)
            self._cancel_requested.discard(job.id.value)
            await self._queue.complete(queued)
            await self._statuses.delete(job.id.value)
            return
        await self.submit(JobRun(job=job, worker=worker, channel=queued.channel, queued=queued))

    async def _execute(self, run: JobRun, channel: ChannelState) -> None:
        try:
            await self._executor.execute(run)
        except asyncio.CancelledError:
            if run.stop_reason not in (StopReason.SHUTDOWN, StopReason.LEASE_LOST):
                raise
        except InfrastructureError as error:
            # A stopping process puts the job back at once: waiting would
            # only delay the shutdown, and no new job is fetched anyway.
            delay_s = 0.0 if self._stopping else channel.recording_failed()
            logger.warning(
                "job %d: recording its outcome failed (%s); putting it back in %.1f s",
                run.job_id,
                error,
                delay_s,
            )
            await asyncio.sleep(delay_s)
            await self._put_back(run, channel)
        except Exception:
            logger.exception("job %d: recording its outcome failed; putting it back", run.job_id)
            await self._put_back(run, channel)
        else:
            channel.recording_failures = 0
        finally:
            self._running.pop(run.job_id, None)
            channel.finished += 1
            self.counts.finished += 1
            await channel.slots.release()

    async def _put_back(self, run: JobRun, channel: ChannelState) -> None:
        """Put a run back, or keep it for the fetch loop to retry when Redis or the database fails.

        A job whose put-back failed stays in this live process's processing
        hash, where no other process reaps it, so without the retry it would
        never run again.
        """
        if await self._executor.put_back(run, RECORDING_FAILED):
            return
        channel.unreturned.append(run)
        logger.warning(
            "job %d: will put it back once Redis and the database are reachable again",
            run.job_id,
        )

    async def _return_unreturned(self, channel: ChannelState) -> None:
        """Retry the put-backs that failed; keep those that fail again for the next loop."""
        if not channel.unreturned:
            return
        waiting, channel.unreturned = channel.unreturned, []
        for index, run in enumerate(waiting):
            if not await self._executor.put_back(run, RECORDING_FAILED):
                channel.unreturned = waiting[index:]
                # Redis or the database is still down: wait before the next try.
                await asyncio.sleep(FETCH_WAIT_S)
                return


async def _sleep_until(loop_time_s: float) -> None:
    delay_s = loop_time_s - asyncio.get_running_loop().time()
    if delay_s > 0:
        await asyncio.sleep(delay_s)
