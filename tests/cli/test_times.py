"""Parsing `--run-after-time` and formatting times and durations."""

from __future__ import annotations

import pytest

from jwp.cli.errors import InputError
from jwp.cli.times import format_duration, iso_utc, parse_time_ms

NOW_MS = 1_750_000_000_000


@pytest.mark.parametrize(
    ("text", "expected_ms"),
    [
        ("1000", 1000),
        ("1750000000123", 1_750_000_000_123),
        ("+500ms", NOW_MS + 500),
        ("+30s", NOW_MS + 30_000),
        ("+1.5s", NOW_MS + 1500),
        ("+5m", NOW_MS + 300_000),
        ("+2h", NOW_MS + 7_200_000),
        ("+1d", NOW_MS + 86_400_000),
        ("2025-06-11T10:00:00Z", 1_749_636_000_000),
        ("2025-06-11T10:00:00.250+00:00", 1_749_636_000_250),
        ("2025-06-11T19:00:00+09:00", 1_749_636_000_000),
        ("2025-06-11T10:00:00", 1_749_636_000_000),
        ("2025-06-11", 1_749_600_000_000),
    ],
)
def test_parse_time_accepts(text: str, expected_ms: int) -> None:
    assert parse_time_ms(text, "--run-after-time", now=NOW_MS) == expected_ms


@pytest.mark.parametrize(
    "text", ["soon", "-5", "+5 minutes", "+5", "30s", "1969-12-31T00:00:00Z", "²", "１２３"]
)
def test_parse_time_rejects(text: str) -> None:
    with pytest.raises(InputError, match="--run-after-time"):
        parse_time_ms(text, "--run-after-time", now=NOW_MS)


def test_iso_utc_keeps_milliseconds() -> None:
    assert iso_utc(1_749_636_000_007) == "2025-06-11T10:00:00.007Z"


@pytest.mark.parametrize(
    ("duration_ms", "text"),
    [(0, "0 ms"), (999, "999 ms"), (1234, "1.23 s"), (65_000, "1 m 05 s"), (7_380_000, "2 h 03 m")],
)
def test_format_duration(duration_ms: int, text: str) -> None:
    assert format_duration(duration_ms) == text


INT64_MAX = 2**63 - 1


@pytest.mark.parametrize(
    ("epoch_ms", "text"),
    [
        (0, "1970-01-01T00:00:00.000Z"),
        (-1, "-1"),
        (-(2**63), str(-(2**63))),
        (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
        (253_402_300_800_000, "253402300800000"),
        (INT64_MAX, str(INT64_MAX)),
    ],
)
def test_iso_utc_extreme_values(epoch_ms: int, text: str) -> None:
    assert iso_utc(epoch_ms) == text
