"""Job queues, job status maps and result buses (memory and Redis)."""

from .base import JobQueue, JobStatusMap, QueuedJob, ResultBus, StreamSubscription, Subscription

__all__ = [
    "JobQueue",
    "JobStatusMap",
    "QueuedJob",
    "ResultBus",
    "StreamSubscription",
    "Subscription",
]
