"""One claimed job on its way through a dispatcher."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from jwp.config import DEFAULT_CHANNEL
from jwp.proto.jobworkerp.data import job_pb2, worker_pb2
from jwp.server.queue import QueuedJob


class StopReason(enum.Enum):
    """Why a running job's task was cancelled."""

    CANCEL_REQUEST = "cancel request"
    SHUTDOWN = "server shutdown"
    LEASE_LOST = "lost claim"


@dataclass
class JobRun:
    """A job this process claimed, with the worker it runs for and what it holds.

    A job comes from the immediate queue (`queued` is set), from the RDB
    through a grab lease on its row (`lease_until_ms` is set), or both
    (a WITH_BACKUP job, whose row is grabbed before it runs). The lease value
    fences the completion: a process whose lease was taken over cannot
    record a result.
    """

    job: job_pb2.Job
    worker: worker_pb2.Worker
    channel: str
    queued: QueuedJob | None = None
    lease_until_ms: int | None = None
    stop_reason: StopReason | None = None
    recording: bool = False
    """True once the runner has ended and its outcome is being recorded.

    A shutdown or cancel request then lets the recording finish rather than
    cancel it: a recording cut midway could store the result yet leave the
    job queued, so the job would run and be recorded a second time.
    """

    @property
    def job_id(self) -> int:
        return self.job.id.value


def channel_of(worker: worker_pb2.Worker) -> str:
    """Return the channel a worker's jobs run in (the default one when none is set)."""
    data = worker.data
    return data.channel if data.HasField("channel") and data.channel else DEFAULT_CHANNEL
