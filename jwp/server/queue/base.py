"""Interfaces of the job queue, the job status map and the result bus.

Standalone mode implements them in process (`memory`); Scalable mode over
Redis. The application and the dispatcher only see these interfaces.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from jwp.errors import AlreadyExistsError
from jwp.proto.jobworkerp.data import common_pb2, job_pb2, job_result_pb2


@dataclass
class QueuedJob:
    """A job a dispatcher took from a queue and holds until it is completed or put back."""

    job: job_pb2.Job
    channel: str
    lease: object = field(default=None, repr=False)
    """Handle the queue implementation needs to complete or put back this job."""


class JobQueue(abc.ABC):
    """Immediate jobs per channel, in three priorities, FIFO within a priority.

    `fetch` moves jobs into a processing set owned by the caller; they leave
    it through `complete` (the result is recorded) or `put_back` (shutdown
    or a lost run), so a job is never dropped between the two.
    """

    @abc.abstractmethod
    async def push(self, job: job_pb2.Job, channel: str) -> None:
        """Append a job to its channel at the job's priority."""

    async def push_many(
        self, jobs: Sequence[tuple[job_pb2.Job, str]]
    ) -> list[AlreadyExistsError | None]:
        """Push (job, channel) pairs in order; return per job None or its uniq_key conflict.

        Any other error raises for the whole call, and then some of the jobs
        may be queued. Implementations may send all jobs in one round trip.
        """
        outcomes: list[AlreadyExistsError | None] = []
        for job, channel in jobs:
            try:
                await self.push(job, channel)
            except AlreadyExistsError as error:
                outcomes.append(error)
            else:
                outcomes.append(None)
        return outcomes

    @abc.abstractmethod
    async def fetch(self, channel: str, max_jobs: int, timeout_s: float) -> list[QueuedJob]:
        """Take up to `max_jobs` jobs, highest priority first; wait up to `timeout_s` for one."""

    @abc.abstractmethod
    async def complete(self, queued: QueuedJob) -> None:
        """Forget a fetched job whose result has been recorded."""

    @abc.abstractmethod
    async def put_back(self, queued: QueuedJob) -> None:
        """Return a fetched job to the head of its queue, to run again."""

    async def requeue(self, queued: QueuedJob, job: job_pb2.Job) -> None:
        """Replace a fetched job by its next attempt (same id) at the tail of its queue."""
        await self.complete(queued)
        await self.push(job, queued.channel)

    @abc.abstractmethod
    async def remove(self, job_id: int) -> job_pb2.Job | None:
        """Remove a job that waits in a queue (cancel); return it, or None if not queued."""

    @abc.abstractmethod
    async def list_queued(self, channel: str, limit: int | None) -> list[job_pb2.Job]:
        """List waiting jobs of a channel, in the order they would run."""

    @abc.abstractmethod
    async def queued_count(self, channel: str) -> int:
        """Count jobs waiting in a channel."""

    @abc.abstractmethod
    async def advertise_channels(self, channels: dict[str, int]) -> None:
        """Record the channels this process runs, with their concurrency, for others to see."""

    @abc.abstractmethod
    async def served_channels(self) -> dict[str, int]:
        """Return every channel some live process runs, with the sum of their concurrencies."""

    @abc.abstractmethod
    async def queued_ids(self) -> set[int]:
        """Return the ids of every job waiting or being processed, in every channel."""

    async def open(self) -> None:  # noqa: B027 - optional hook
        """Start background work the queue needs, such as renewing a process lease."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; queued jobs stay where the implementation keeps them."""


class JobStatusMap(abc.ABC):
    """PENDING / RUNNING / WAIT_RESULT of jobs not yet finished."""

    @abc.abstractmethod
    async def set(self, job_id: int, status: int) -> None: ...

    async def set_many(self, job_ids: Sequence[int], status: int) -> None:
        """Set the same status for several jobs; implementations may do it in one call."""
        for job_id in job_ids:
            await self.set(job_id, status)

    @abc.abstractmethod
    async def get(self, job_id: int) -> int | None: ...

    @abc.abstractmethod
    async def delete(self, job_id: int) -> None: ...

    @abc.abstractmethod
    async def find_all(self) -> dict[int, int]: ...


class Subscription(abc.ABC):
    """Results published on one topic after the subscription opened."""

    @abc.abstractmethod
    async def get(self, timeout_s: float | None) -> job_result_pb2.JobResult:
        """Wait for the next result; raise WaitTimeoutError after `timeout_s` seconds."""

    def __aiter__(self) -> AsyncIterator[job_result_pb2.JobResult]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[job_result_pb2.JobResult]:
        while True:
            yield await self.get(None)


class StreamSubscription(abc.ABC):
    """Output chunks of one streaming job, ending with the `end` trailer."""

    @abc.abstractmethod
    def __aiter__(self) -> AsyncIterator[common_pb2.ResultOutputItem]: ...


class ResultBus(abc.ABC):
    """Carries results from the dispatcher to DIRECT callers and listeners."""

    @abc.abstractmethod
    def expect_direct(self, job_id: int) -> contextlib.AbstractAsyncContextManager[Subscription]:
        """Open the wait for a DIRECT job's result; open it before the job is queued."""

    @abc.abstractmethod
    async def send_direct(self, result: job_result_pb2.JobResult) -> None:
        """Hand a final result to the caller waiting on its DIRECT enqueue."""

    @abc.abstractmethod
    async def publish(self, result: job_result_pb2.JobResult, *, remember: bool) -> None:
        """Send a final result to listeners of its job and of its worker.

        With `remember`, the result is also kept for JOB_QUEUE_EXPIRE_JOB_RESULT_SECONDS
        so that a Listen after the job finished still gets it.
        """

    @abc.abstractmethod
    async def find_latest(self, job_id: int) -> job_result_pb2.JobResult | None:
        """Return the remembered final result of a job, if it has not expired."""

    @abc.abstractmethod
    def listen_job(self, job_id: int) -> contextlib.AbstractAsyncContextManager[Subscription]:
        """Subscribe to the next results of one job."""

    @abc.abstractmethod
    def listen_worker(self, worker_id: int) -> contextlib.AbstractAsyncContextManager[Subscription]:
        """Subscribe to every result of one worker from now on."""

    @abc.abstractmethod
    async def publish_stream(self, job_id: int, item: common_pb2.ResultOutputItem) -> None:
        """Send one output chunk (or the end trailer) of a streaming job."""

    @abc.abstractmethod
    def listen_stream(
        self, job_id: int
    ) -> contextlib.AbstractAsyncContextManager[StreamSubscription]:
        """Subscribe to the output chunks of one streaming job."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections and end open subscriptions."""


EventHandler = Callable[[int], Awaitable[None]]
"""Handles one cluster event; the argument is a worker id, a job id or a runner id."""


class ClusterEvents(abc.ABC):
    """Changes one process makes that the other processes of a deployment must act on.

    The process that makes a change acts on it locally itself; `publish_*`
    only tells the others. Standalone has no others (`LocalClusterEvents`).
    """

    @abc.abstractmethod
    async def publish_worker_changed(self, worker_id: int) -> None:
        """Tell other processes to drop their cached copy of a worker (and its runner pool)."""

    @abc.abstractmethod
    async def publish_cancel(self, job_id: int) -> None:
        """Ask whichever process runs a job to stop it."""

    @abc.abstractmethod
    async def publish_rdb_job_due(self) -> None:
        """Wake the RDB pollers of other processes: a stored job is due soon."""

    @abc.abstractmethod
    async def publish_runner_changed(self, runner_id: int) -> None:
        """Tell other processes to load a runner added at run time, or drop a deleted one."""

    @abc.abstractmethod
    def set_handlers(
        self,
        *,
        on_worker_changed: EventHandler,
        on_cancel: EventHandler,
        on_rdb_job_due: Callable[[], None],
        on_runner_changed: EventHandler | None = None,
    ) -> None:
        """Set what this process does when another process publishes an event."""


class LocalClusterEvents(ClusterEvents):
    """A deployment of one process: nothing to tell."""

    async def publish_worker_changed(self, worker_id: int) -> None:
        return None

    async def publish_cancel(self, job_id: int) -> None:
        return None

    async def publish_rdb_job_due(self) -> None:
        return None

    async def publish_runner_changed(self, runner_id: int) -> None:
        return None

    def set_handlers(
        self,
        *,
        on_worker_changed: EventHandler,
        on_cancel: EventHandler,
        on_rdb_job_due: Callable[[], None],
        on_runner_changed: EventHandler | None = None,
    ) -> None:
        return None
