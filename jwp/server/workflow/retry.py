"""Retry policies of workflow documents, for `try.catch.retry` and run task workers.

A policy is `{delay, backoff: {constant|linear|exponential: {}}, limit:
{attempt: {count, duration}}}`. `count` is the number of retries after the
first attempt (absent means none, as for a worker's `max_retry`), and
`duration` caps each delay. Without a backoff every delay is `delay`.
"""

from __future__ import annotations

from dataclasses import dataclass

from jwp.proto.jobworkerp.data import common_pb2

EXPONENTIAL_BASIS = 2.0
"""Growth factor of exponential backoff; the document format has no field for it."""

_RETRY_TYPES = {
    None: common_pb2.RetryType.NONE,
    "constant": common_pb2.RetryType.CONSTANT,
    "linear": common_pb2.RetryType.LINEAR,
    "exponential": common_pb2.RetryType.EXPONENTIAL,
}


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    backoff: str | None
    """constant, linear, exponential, or None (no backoff: every delay is `delay_ms`)."""
    delay_ms: int
    max_retries: int
    max_delay_ms: int | None

    def delay_before_retry(self, retried: int) -> int | None:
        """Return the delay before the next attempt, or None when no retry is left.

        `retried` counts the retries already made, so 0 after the first failure.
        """
        if retried >= self.max_retries:
            return None
        delay = float(self.delay_ms)
        if self.backoff == "linear":
            delay *= retried + 1
        elif self.backoff == "exponential":
            delay *= EXPONENTIAL_BASIS**retried
        if self.max_delay_ms is not None:
            delay = min(delay, float(self.max_delay_ms))
        return round(delay)

    def to_proto(self) -> common_pb2.RetryPolicy:
        """Return the worker retry policy for a run task's worker."""
        return common_pb2.RetryPolicy(
            type=_RETRY_TYPES[self.backoff],
            interval=min(self.delay_ms, 2**32 - 1),
            max_interval=min(self.max_delay_ms or 0, 2**32 - 1),
            max_retry=min(self.max_retries, 2**32 - 1),
            basis=EXPONENTIAL_BASIS,
        )
