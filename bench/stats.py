"""Percentiles and rates of measured samples."""

from __future__ import annotations

import statistics
from dataclasses import dataclass


def percentile(values: list[float], fraction: float) -> float:
    """Return the sample at `fraction` (0-1) of the sorted values, nearest rank."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


@dataclass(frozen=True)
class Latencies:
    """p50, p99 and max of a list of durations, in ms."""

    count: int
    p50_ms: float
    p99_ms: float
    max_ms: float

    @classmethod
    def of(cls, values_ms: list[float]) -> Latencies:
        return cls(
            count=len(values_ms),
            p50_ms=statistics.median(values_ms),
            p99_ms=percentile(values_ms, 0.99),
            max_ms=max(values_ms),
        )
