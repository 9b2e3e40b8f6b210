"""ResultMetrics: result counts over a sliding window of one-second buckets."""

from __future__ import annotations

from jwp.proto.jobworkerp.data import common_pb2
from jwp.server.metrics import MAX_WINDOW_S, ResultMetrics


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s


def test_tally_counts_statuses_by_outcome() -> None:
    metrics = ResultMetrics(clock=FakeClock())
    for status in (
        common_pb2.SUCCESS,
        common_pb2.SUCCESS,
        common_pb2.FATAL_ERROR,
        common_pb2.ABORT,
        common_pb2.MAX_RETRY,
        common_pb2.OTHER_ERROR,
        common_pb2.CANCELLED,
        common_pb2.ERROR_AND_RETRY,
    ):
        metrics.record(status)

    tally = metrics.tally(60)

    assert tally.window_s == 60
    assert tally.succeeded == 2
    assert tally.failed == 4
    assert tally.cancelled == 1
    assert tally.retried == 1


def test_tally_leaves_out_results_older_than_window() -> None:
    clock = FakeClock()
    metrics = ResultMetrics(clock=clock)
    metrics.record(common_pb2.SUCCESS)
    clock.now_s += 30
    metrics.record(common_pb2.SUCCESS)
    metrics.record(common_pb2.FATAL_ERROR)
    clock.now_s += 30

    assert metrics.tally(31).succeeded == 1
    assert metrics.tally(31).failed == 1
    assert metrics.tally(61).succeeded == 2


def test_window_is_capped_and_old_buckets_dropped() -> None:
    clock = FakeClock()
    metrics = ResultMetrics(clock=clock)
    metrics.record(common_pb2.SUCCESS)
    clock.now_s += MAX_WINDOW_S + 5
    metrics.record(common_pb2.SUCCESS)

    tally = metrics.tally(10 * MAX_WINDOW_S)

    assert tally.window_s == MAX_WINDOW_S
    assert tally.succeeded == 1
    assert len(metrics._buckets) == 1
