"""Text for the dashboard's cells: names, statuses in colour, times, sizes, sparklines."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from rich.text import Text

from jwp.config import DEFAULT_CHANNEL
from jwp.proto.jobworkerp.data import common_pb2, runner_pb2

NONE_SHOWN = "—"
"""Shown in place of an absent value."""

RESULT_STATUS_STYLES: dict[int, str] = {
    common_pb2.SUCCESS: "bold green",
    common_pb2.ERROR_AND_RETRY: "yellow",
    common_pb2.FATAL_ERROR: "bold red",
    common_pb2.ABORT: "red",
    common_pb2.MAX_RETRY: "bold red",
    common_pb2.OTHER_ERROR: "red",
    common_pb2.CANCELLED: "magenta",
}

JOB_STATUS_STYLES: dict[int, str] = {
    common_pb2.PENDING: "yellow",
    common_pb2.RUNNING: "bold cyan",
    common_pb2.WAIT_RESULT: "blue",
}

SPARK_BLOCKS = " ▁▂▃▄▅▆▇█"


def channel_label(name: str) -> str:
    """Show the stored default channel name as `default`."""
    return "default" if name in ("", DEFAULT_CHANNEL) else name


def enum_name(enum: object, value: int) -> str:
    """Return an enum value's name, or the number when the value is unknown."""
    try:
        return str(enum.Name(value))  # type: ignore[attr-defined]
    except ValueError:
        return str(value)


def result_status_text(status: int) -> Text:
    name = enum_name(common_pb2.ResultStatus, status)
    return Text(name, style=RESULT_STATUS_STYLES.get(status, ""))


def job_status_text(status: int | None) -> Text:
    if status is None:
        return Text(NONE_SHOWN, style="dim")
    name = enum_name(common_pb2.JobStatus, status)
    return Text(name, style=JOB_STATUS_STYLES.get(status, ""))


def runner_type_name(runner_type: int) -> str:
    return enum_name(common_pb2.RunnerType, runner_type)


def output_type_name(output_type: int) -> str:
    return enum_name(runner_pb2.StreamingOutputType, output_type)


def priority_name(priority: int) -> str:
    name = enum_name(common_pb2.Priority, priority)
    return name.removeprefix("PRIORITY_")


def format_time_ms(epoch_ms: int) -> str:
    """Local date and time of an epoch-ms value; 0 means unset.

    A negative value, or one past what the platform's clock functions take
    (around the year 9999), is shown as the plain number instead.
    """
    if epoch_ms == 0:
        return NONE_SHOWN
    if epoch_ms < 0:
        return str(epoch_ms)
    try:
        moment = datetime.datetime.fromtimestamp(epoch_ms / 1000).astimezone()
    except (OverflowError, OSError, ValueError):
        return str(epoch_ms)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def format_duration_ms(duration_ms: int) -> str:
    """Human duration: `850 ms`, `12.3 s`, `4 min 5 s`, `2 h 3 min`."""
    if duration_ms < 1000:
        return f"{duration_ms} ms"
    seconds = duration_ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, second = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {second} s" if second else f"{minutes} min"
    hours, minute = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minute} min"
    return f"{hours // 24} d {hours % 24} h"


def format_bytes(size: int) -> str:
    """Size in B, KiB, MiB or GiB with one decimal."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB"):
        value /= 1024
        if value < 1024 or unit == "GiB":
            break
    return f"{value:.1f} {unit}"


def sparkline_text(values: Sequence[float], width: int) -> str:
    """Draw the last `width` values as block characters scaled to the largest one.

    A zero is a blank, so an idle channel shows an empty line, and any
    non-zero value shows at least the lowest block.
    """
    shown = list(values)[-width:]
    shown = [0.0] * (width - len(shown)) + shown
    peak = max(shown, default=0.0)
    if peak <= 0:
        return SPARK_BLOCKS[0] * width
    steps = len(SPARK_BLOCKS) - 1
    blocks = []
    for value in shown:
        if value <= 0:
            blocks.append(SPARK_BLOCKS[0])
        else:
            blocks.append(SPARK_BLOCKS[max(1, round(value / peak * steps))])
    return "".join(blocks)
