"""Counts of recent job results, kept in process for the dashboard.

The job recorder reports every recorded outcome here. Counts are kept in
one-second buckets over a bounded window, so memory stays the same
whatever the throughput, and a count over the last N seconds costs at most
one step per bucket.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from dataclasses import dataclass

from jwp.proto.jobworkerp.data import common_pb2

MAX_WINDOW_S = 900
"""Maximum window a count can cover, in s. Older buckets are dropped."""

FAILED_STATUSES = frozenset(
    {common_pb2.FATAL_ERROR, common_pb2.ABORT, common_pb2.MAX_RETRY, common_pb2.OTHER_ERROR}
)
"""Final statuses that count as failed."""


@dataclass(frozen=True)
class ResultTally:
    """Results recorded in one window, by outcome."""

    window_s: int
    succeeded: int = 0
    failed: int = 0
    cancelled: int = 0
    retried: int = 0


class ResultMetrics:
    """Results by status in one-second buckets over the last `MAX_WINDOW_S` seconds.

    Args:
        clock: Monotonic time in seconds; tests pass a fake clock.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        # (second, counts by status), oldest first, one entry per second
        # that saw a result.
        self._buckets: collections.deque[tuple[int, collections.Counter[int]]] = collections.deque()

    def record(self, status: int) -> None:
        """Count one recorded result (final, or a failed attempt that is retried)."""
        second = int(self._clock())
        if not self._buckets or self._buckets[-1][0] != second:
            self._buckets.append((second, collections.Counter()))
            self._drop_before(second - MAX_WINDOW_S)
        self._buckets[-1][1][status] += 1

    def tally(self, window_s: int) -> ResultTally:
        """Count the results of the last `window_s` seconds (at most `MAX_WINDOW_S`)."""
        window_s = max(1, min(window_s, MAX_WINDOW_S))
        oldest = int(self._clock()) - window_s + 1
        counts: collections.Counter[int] = collections.Counter()
        for second, bucket in reversed(self._buckets):
            if second < oldest:
                break
            counts.update(bucket)
        failed = sum(counts[status] for status in FAILED_STATUSES)
        return ResultTally(
            window_s=window_s,
            succeeded=counts[common_pb2.SUCCESS],
            failed=failed,
            cancelled=counts[common_pb2.CANCELLED],
            retried=counts[common_pb2.ERROR_AND_RETRY],
        )

    def _drop_before(self, second: int) -> None:
        while self._buckets and self._buckets[0][0] < second:
            self._buckets.popleft()
