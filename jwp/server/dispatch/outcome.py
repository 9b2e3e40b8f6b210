"""Job result statuses of failed runs, retry delays and periodic slots.

Pure functions, so the arithmetic is tested without a server.
"""

from __future__ import annotations

from jwp.errors import (
    AbortedRunnerError,
    FatalRunnerError,
    JobCancelledError,
    JobTimeoutError,
    OutputTooLargeError,
    RetryableRunnerError,
    RunnerArgumentError,
    RunnerError,
)
from jwp.proto.jobworkerp.data import common_pb2

ONE_YEAR_MS = 365 * 24 * 3600 * 1000

ResultStatus = common_pb2.ResultStatus

RESULT_STATUS_OF_ERROR: dict[type[RunnerError], ResultStatus] = {
    RetryableRunnerError: common_pb2.ERROR_AND_RETRY,
    JobTimeoutError: common_pb2.ERROR_AND_RETRY,
    FatalRunnerError: common_pb2.FATAL_ERROR,
    RunnerArgumentError: common_pb2.OTHER_ERROR,
    OutputTooLargeError: common_pb2.OTHER_ERROR,
    AbortedRunnerError: common_pb2.ABORT,
    JobCancelledError: common_pb2.CANCELLED,
}
"""Result status of each runner error class; subclasses take their parent's status."""


def status_of_error(error: RunnerError) -> ResultStatus:
    """Return the result status of a runner error (OTHER_ERROR for an unmapped class)."""
    for error_class in type(error).__mro__:
        status = RESULT_STATUS_OF_ERROR.get(error_class)
        if status is not None:
            return status
    return common_pb2.OTHER_ERROR


def retry_delay_ms(policy: common_pb2.RetryPolicy, retried: int) -> int | None:
    """Return the delay before the next attempt, or None when no attempt is left.

    `retried` counts the retries already made (0 after the first attempt).
    CONSTANT waits `interval`, LINEAR `interval * (retried + 1)`, EXPONENTIAL
    `interval * basis ** retried`; a non-zero `max_interval` caps every delay.
    `max_retry` 0 means no retry.
    """
    if policy.type == common_pb2.RetryType.NONE or retried >= policy.max_retry:
        return None
    if policy.type == common_pb2.RetryType.CONSTANT:
        delay = float(policy.interval)
    elif policy.type == common_pb2.RetryType.LINEAR:
        delay = float(policy.interval) * (retried + 1)
    elif policy.type == common_pb2.RetryType.EXPONENTIAL:
        if policy.interval == 0:
            # 0 * basis ** n is 0, but an infinite basis (stored before it was
            # rejected) would make it NaN and an overflow would make it a year.
            return 0
        try:
            delay = float(policy.interval) * float(policy.basis) ** retried
        except OverflowError:
            delay = float("inf")
    else:
        return None
    if policy.max_interval:
        delay = min(delay, float(policy.max_interval))
    # Without a cap an exponential delay can exceed any clock; a year is far
    # past every useful retry.
    return round(min(delay, ONE_YEAR_MS))


def next_periodic_time_ms(previous_slot_ms: int, interval_ms: int, now_ms: int) -> tuple[int, int]:
    """Return the next slot after `previous_slot_ms` that is still ahead, and how many were missed.

    Slots are counted from the previous slot, not from when the run ended,
    so runs do not drift; slots already past (the server was down or a run
    took longer than the interval) are skipped rather than run in a burst.
    """
    next_slot = previous_slot_ms + interval_ms
    if next_slot > now_ms:
        return next_slot, 0
    missed = (now_ms - next_slot) // interval_ms + 1
    return next_slot + missed * interval_ms, missed
