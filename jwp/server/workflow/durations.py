"""Durations of workflow documents (`wait`, `timeout.after`, retry delays) in milliseconds.

A duration is an ISO 8601 string (`PT5S`, `P1DT2H`, `PT0.5S`) or an object of
integer `days`, `hours`, `minutes`, `seconds` and `milliseconds`. Years and
months have no fixed length, so ISO durations with `Y` or a date-part `M`
are rejected; weeks are 7 days.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

_ISO_DURATION = re.compile(
    r"^P(?!$)"
    r"(?:(?P<years>\d+(?:\.\d+)?)Y)?"
    r"(?:(?P<months>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<weeks>\d+(?:\.\d+)?)W)?"
    r"(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?=\d)"
    r"(?:(?P<hours>\d+(?:\.\d+)?)H)?"
    r"(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?"
    r")?$"
)

_MS_PER_UNIT = {
    "weeks": 7 * 24 * 3600 * 1000,
    "days": 24 * 3600 * 1000,
    "hours": 3600 * 1000,
    "minutes": 60 * 1000,
    "seconds": 1000,
    "milliseconds": 1,
}


class DurationError(ValueError):
    """A duration that cannot be turned into milliseconds."""


def duration_ms(value: Any) -> int:
    """Return a duration in milliseconds (fractions of a millisecond are dropped).

    Raises:
        DurationError: The value is neither a valid ISO 8601 duration nor an
            object of non-negative integer units.
    """
    if isinstance(value, str):
        return _iso_duration_ms(value)
    if isinstance(value, dict):
        return _object_duration_ms(value)
    raise DurationError(
        f"duration {value!r} is neither an ISO 8601 string such as PT5S nor an object "
        "such as {seconds: 5}"
    )


def _iso_duration_ms(text: str) -> int:
    match = _ISO_DURATION.match(text.strip())
    if match is None:
        raise DurationError(
            f"duration {text!r} is not an ISO 8601 duration; write e.g. PT5S, PT1M30S or P1D"
        )
    if match["years"] or match["months"]:
        raise DurationError(
            f"duration {text!r} uses years or months, which have no fixed length; "
            "use days (D) or weeks (W)"
        )
    total = Decimal(0)
    for unit in ("weeks", "days", "hours", "minutes", "seconds"):
        amount = match[unit]
        if amount is not None:
            total += Decimal(amount) * _MS_PER_UNIT[unit]
    return int(total)


def _object_duration_ms(value: dict[str, Any]) -> int:
    if not value:
        raise DurationError("duration object is empty; give at least one of " + _unit_names())
    total = 0
    for unit, amount in value.items():
        if unit not in _MS_PER_UNIT or unit == "weeks":
            raise DurationError(f"duration unit {unit!r} is not one of {_unit_names()}")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            raise DurationError(f"duration {unit} {amount!r} is not a non-negative integer")
        total += amount * _MS_PER_UNIT[unit]
    return total


def _unit_names() -> str:
    return "days, hours, minutes, seconds, milliseconds"
