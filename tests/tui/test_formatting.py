"""Formatting of dashboard cells for values at the edges of their range."""

from __future__ import annotations

import re

import pytest

from jwp.tui.formatting import NONE_SHOWN, format_duration_ms, format_time_ms

INT64_MAX = 2**63 - 1


def test_time_zero_is_unset() -> None:
    assert format_time_ms(0) == NONE_SHOWN


def test_time_in_range_is_local_time() -> None:
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", format_time_ms(1_750_000_000_000))


@pytest.mark.parametrize("epoch_ms", [-1, -(2**63), 10**17, INT64_MAX])
def test_time_out_of_range_shows_number(epoch_ms: int) -> None:
    assert format_time_ms(epoch_ms) == str(epoch_ms)


def test_duration_of_int64_max() -> None:
    assert format_duration_ms(INT64_MAX).endswith(" h")
