"""Times on the command line: parsing `--run-after-time` and showing epoch milliseconds."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

from .errors import InputError
from .options import is_ascii_digits

_OFFSET_PATTERN = re.compile(r"^\+(?P<amount>\d+(?:\.\d+)?)(?P<unit>ms|s|m|h|d)$")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_TIME_MS = 253_402_300_799_999
"""The last millisecond of the year 9999, the latest time that jwp serve accepts."""


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def parse_time_ms(text: str, option: str, *, now: int | None = None) -> int:
    """Parse a point in time into epoch milliseconds.

    Accepts epoch milliseconds (`1718100000000`), an ISO 8601 time
    (`2025-06-11T10:00:00Z`) or an offset from now (`+500ms`, `+30s`, `+5m`,
    `+2h`, `+1d`). An ISO time without an offset is read as UTC.

    Raises:
        InputError: The text matches none of these forms or is a time after
            the year 9999. The message names `option`.
    """
    value = text.strip()
    if is_ascii_digits(value):
        return _checked_ms(int(value), text, option)

    offset = _OFFSET_PATTERN.match(value)
    if offset is not None:
        amount_ms = float(offset["amount"]) * _UNIT_MS[offset["unit"]]
        if amount_ms > MAX_TIME_MS:
            raise InputError(f"invalid {option} {text!r}: the time is after the year 9999")
        return _checked_ms((now if now is not None else now_ms()) + round(amount_ms), text, option)

    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"invalid {option} {text!r}: give epoch milliseconds (1718100000000), an ISO 8601 "
            "time (2025-06-11T10:00:00Z) or an offset from now (+500ms, +30s, +5m, +2h)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    epoch_ms = round(moment.timestamp() * 1000)
    if epoch_ms < 0:
        raise InputError(f"invalid {option} {text!r}: the time is before 1970")
    return epoch_ms


def _checked_ms(epoch_ms: int, text: str, option: str) -> int:
    if epoch_ms > MAX_TIME_MS:
        raise InputError(f"invalid {option} {text!r}: the time is after the year 9999")
    return epoch_ms


def iso_utc(epoch_ms: int) -> str:
    """Format epoch milliseconds as ISO 8601 UTC, e.g. 2025-06-11T10:00:00.123Z.

    A value before 1970 or after the year 9999, which no real job time has,
    is returned as the plain number, so that a corrupt or hostile value
    does not crash the command.
    """
    if epoch_ms < 0:
        return str(epoch_ms)
    try:
        moment = _EPOCH + timedelta(milliseconds=epoch_ms)
    except OverflowError:
        return str(epoch_ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


def format_duration(duration_ms: int) -> str:
    """Format a duration for people: `850 ms`, `12.34 s`, `4 m 05 s`, `2 h 03 m`."""
    if duration_ms < 1000:
        return f"{duration_ms} ms"
    if duration_ms < 60_000:
        return f"{duration_ms / 1000:.2f} s"
    minutes, remainder_ms = divmod(duration_ms, 60_000)
    if minutes < 60:
        return f"{minutes} m {remainder_ms // 1000:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} m"
