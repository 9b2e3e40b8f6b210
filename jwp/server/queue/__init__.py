"""Job queues, job status maps and result buses (memory and Redis)."""

from .base import (
    ClusterEvents,
    JobQueue,
    JobStatusMap,
    LocalClusterEvents,
    QueuedJob,
    ResultBus,
    StreamSubscription,
    Subscription,
)

__all__ = [
    "ClusterEvents",
    "JobQueue",
    "JobStatusMap",
    "LocalClusterEvents",
    "QueuedJob",
    "ResultBus",
    "StreamSubscription",
    "Subscription",
]
