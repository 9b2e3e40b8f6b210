"""What the commands print: JSON for programs, Rich tables and cards for people.

Every printer takes the records of `records.py`. With `--json`, stdout gets
exactly one JSON document, or one object per line for streams. Otherwise
lists are tables and single items are cards (key/value panels). Data values
are wrapped in `Text` by `plain`, so markup-like text in an output is printed
as is and control characters are escaped (see `control_chars`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from .control_chars import escape_control_chars
from .records import Record
from .times import format_duration, iso_utc

# Maximum length of a preview of args or output in a table cell, in characters.
_PREVIEW_LENGTH = 48
# Maximum length of a JSON value that a card shows on one line. Longer ones are indented.
_COMPACT_JSON_LENGTH = 60
# Limits of one value in a card, so that megabytes of args or output do not
# flood a terminal; --json prints values whole.
_CARD_VALUE_MAX_CHARS = 8000
_CARD_VALUE_MAX_LINES = 200
# Narrowest width of a table column that may wrap, in characters. Rich
# would otherwise shrink such columns to nothing in a narrow terminal.
_MIN_COLUMN_WIDTH = 6

_STATUS_STYLES = {
    "SUCCESS": "bold green",
    "ERROR_AND_RETRY": "bold yellow",
    "CANCELLED": "bold yellow",
    "PENDING": "cyan",
    "RUNNING": "bold cyan",
    "WAIT_RESULT": "cyan",
}
_FAILED_STATUS_STYLE = "bold red"


def plain(text: str, style: str = "") -> Text:
    """Wrap text in a `Text` without markup, with its control characters escaped."""
    return Text(escape_control_chars(text), style=style)


class Output:
    """Prints records as JSON (`--json`) or as tables and cards."""

    def __init__(self, *, json_mode: bool) -> None:
        self.json_mode = json_mode
        self._console = Console(highlight=False)

    def json(self, value: Any) -> None:
        """Print one JSON document on stdout."""
        sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")
        sys.stdout.flush()

    def json_line(self, value: Any) -> None:
        """Print one JSON object on one line and flush, for streams of results."""
        sys.stdout.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n")
        sys.stdout.flush()

    def show(self, *renderables: RenderableType) -> None:
        self._console.print(*renderables)
        self._console.file.flush()

    def line(self, text: str) -> None:
        """Print one plain line for people, without markup, and never wrapped, so grep finds it."""
        self._console.print(plain(text), soft_wrap=True)
        self._console.file.flush()

    def item(self, record: Record, card: RenderableType) -> None:
        if self.json_mode:
            self.json(record)
        else:
            self.show(card)

    def items(self, records: list[Record], table: Table, noun: str) -> None:
        if self.json_mode:
            self.json(records)
        elif not records:
            self.line(f"no {noun} found")
        else:
            self.show(self._fit(table))

    def _fit(self, table: Table) -> Table:
        """Let the id columns fold after all when the table cannot fit the terminal otherwise.

        Rich would cut the columns on the right off, which loses more than a
        folded id does.
        """
        if _narrowest_width(table) <= self._console.options.max_width:
            return table
        for column in table.columns:
            column.width = None
        return table

    def count(self, total: int) -> None:
        if self.json_mode:
            self.json({"total": total})
        else:
            self.line(str(total))


def card(title: str, rows: Sequence[tuple[str, RenderableType]]) -> Panel:
    """Build a key/value panel for one item."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for key, value in rows:
        grid.add_row(key, value)
    return Panel(grid, title=plain(title), title_align="left", expand=False)


def table(title: str, columns: Sequence[str], *, short: Sequence[str] = ()) -> Table:
    """Build a table for a list of items.

    Long values, names among them, fold onto more lines instead of being
    cut; `short` columns (enum names, durations) never wrap, and neither do
    the id columns that `keep_ids_whole` sizes.
    """
    result = Table(title=plain(title), title_justify="left", header_style="bold")
    for column in columns:
        if column in short:
            result.add_column(column, no_wrap=True)
        else:
            result.add_column(column, overflow="fold", min_width=_MIN_COLUMN_WIDTH)
    return result


def keep_ids_whole(result: Table, columns: Sequence[str]) -> Table:
    """Size the named id columns to their longest id, so that no id wraps or is cut.

    A fixed width, unlike `no_wrap`, keeps Rich from cutting the column with
    an ellipsis when the table is too wide: Rich narrows the other columns
    first. Only in a terminal too narrow for even that does `Output.items`
    let the ids fold. Call it once the rows are in.
    """
    for column in result.columns:
        if column.header in columns:
            lengths = [cell.cell_len for cell in column.cells if isinstance(cell, Text)]
            column.width = max([len(str(column.header)), *lengths])
    return result


def _narrowest_width(result: Table) -> int:
    """Return the width of a table of `table()` whose folding columns are all at their minimum."""
    width = len(result.columns) + 1  # the vertical borders
    for column in result.columns:
        if column.width is not None:
            content = column.width
        elif column.no_wrap:
            cells = [cell.cell_len for cell in column.cells if isinstance(cell, Text)]
            content = max([len(str(column.header)), *cells])
        else:
            content = column.min_width or 1
        width += content + 2  # one space of padding on each side
    return width


# Runners


def runner_card(record: Record) -> RenderableType:
    rows: list[tuple[str, RenderableType]] = [
        ("id", plain(record["id"])),
        ("name", plain(record["name"])),
        ("type", plain(record["runner_type"])),
        ("output type", plain(record["output_type"])),
        ("description", plain(record["description"])),
        ("definition", plain(record["definition"])),
    ]
    schemas = [
        ("runner_settings_proto", record["runner_settings_proto"]),
        ("job_args_proto", record["job_args_proto"]),
        ("result_output_proto", record["result_output_proto"]),
    ]
    panels: list[RenderableType] = [card(f"runner {record['name']}", rows)]
    for name, text in schemas:
        body: RenderableType = (
            Syntax(
                escape_control_chars(text.strip("\n")),
                "protobuf",
                theme="ansi_dark",
                background_color="default",
            )
            if text
            else plain("(none: raw bytes)", style="dim")
        )
        panels.append(Panel(body, title=plain(name), title_align="left", expand=False))
    return Group(*panels)


def runner_table(records: list[Record]) -> Table:
    result = table(
        "runners", ["id", "name", "type", "output type", "description"], short=["output type"]
    )
    for record in records:
        result.add_row(
            plain(record["id"]),
            plain(record["name"]),
            plain(record["runner_type"]),
            plain(record["output_type"]),
            plain(record["description"]),
        )
    return keep_ids_whole(result, ["id"])


# Workers


def worker_card(record: Record) -> RenderableType:
    rows: list[tuple[str, RenderableType]] = [
        ("id", plain(record["id"])),
        ("name", plain(record["name"])),
        ("description", _value(record["description"])),
        ("runner", _runner_label(record)),
        ("settings", _value(record["runner_settings"])),
        ("response type", plain(record["response_type"])),
        ("queue type", plain(record["queue_type"])),
        ("channel", _channel(record["channel"])),
        ("periodic", _periodic(record["periodic_interval"])),
        ("store success", _value(record["store_success"])),
        ("store failure", _value(record["store_failure"])),
        ("broadcast results", _value(record["broadcast_results"])),
        ("use static", _value(record["use_static"])),
        ("retry policy", _retry_policy(record["retry_policy"])),
        ("next workers", _value(", ".join(record["next_workers"]) or None)),
    ]
    return card(f"worker {record['name']}", rows)


def worker_table(records: list[Record]) -> Table:
    columns = ["id", "name", "runner", "response", "queue", "channel", "periodic", "options"]
    result = table("workers", columns, short=["response", "queue"])
    for record in records:
        result.add_row(
            plain(record["id"]),
            plain(record["name"]),
            _runner_label(record),
            plain(record["response_type"]),
            plain(record["queue_type"]),
            _channel(record["channel"]),
            _periodic(record["periodic_interval"]),
            plain(_worker_options(record)),
        )
    return keep_ids_whole(result, ["id"])


def _runner_label(record: Record) -> Text:
    name = record["runner_name"] or "unknown runner"
    return plain(f"{name} (id {record['runner_id']})")


def _channel(channel: str | None) -> Text:
    return plain(channel) if channel else plain("default", style="dim")


def _periodic(interval_ms: int) -> Text:
    return plain(f"every {interval_ms} ms") if interval_ms else plain("no", style="dim")


def _retry_policy(policy: Record | None) -> Text:
    if policy is None or policy["type"] == "NONE":
        return plain("none (a retryable failure ends the job)", style="dim")
    cap = f"{policy['max_interval']} ms" if policy["max_interval"] else "none"
    return plain(
        f"{policy['type']}: interval {policy['interval']} ms, max interval {cap}, "
        f"max retries {policy['max_retry']}, basis {policy['basis']}"
    )


def _worker_options(record: Record) -> str:
    """Name the options that are on, e.g. `store-success store-failure broadcast static`."""
    names = {
        "store_success": "store-success",
        "store_failure": "store-failure",
        "broadcast_results": "broadcast",
        "use_static": "static",
    }
    return " ".join(label for key, label in names.items() if record[key]) or "-"


# Jobs


def job_card(record: Record) -> RenderableType:
    rows: list[tuple[str, RenderableType]] = [
        ("id", plain(record["id"])),
        ("worker", _worker_label(record)),
        ("args", _value(record["args"])),
        ("priority", plain(record["priority"])),
        ("run after", _time_or(record["run_after_time"], "at once")),
        ("enqueued", _time_or(record["enqueue_time"], "-")),
        ("timeout", _timeout(record["timeout"])),
        ("retried", plain(str(record["retried"]))),
        ("unique key", _value(record["uniq_key"])),
    ]
    if record["grabbed_until_time"]:
        rows.append(("held until", plain(iso_utc(record["grabbed_until_time"]))))
    if "status" in record:
        rows.append(("status", _status(record["status"])))
    return card(f"job {record['id']}", rows)


def job_table(records: list[Record], *, with_status: bool = False) -> Table:
    columns = ["id", "worker", "priority", "run after", "enqueued", "timeout", "args"]
    if with_status:
        columns.append("status")
    result = table("jobs", columns, short=["priority", "status"])
    for record in records:
        cells: list[RenderableType] = [
            plain(record["id"]),
            _worker_label(record),
            plain(record["priority"].removeprefix("PRIORITY_")),
            _time_or(record["run_after_time"], "at once"),
            _time_or(record["enqueue_time"], "-"),
            _timeout(record["timeout"]),
            _preview(record["args"]),
        ]
        if with_status:
            cells.append(_status(record.get("status")))
        result.add_row(*cells)
    return keep_ids_whole(result, ["id"])


def job_status_table(records: list[Record]) -> Table:
    result = table("job statuses", ["job id", "status"], short=["status"])
    for record in records:
        result.add_row(plain(record["job_id"]), _status(record["status"]))
    return keep_ids_whole(result, ["job id"])


def _worker_label(record: Record) -> Text:
    name = record["worker_name"]
    return plain(f"{name} (id {record['worker_id']})" if name else f"id {record['worker_id']}")


def _timeout(timeout_ms: int) -> Text:
    return plain(f"{timeout_ms} ms") if timeout_ms else plain("no limit", style="dim")


# Job results


def result_card(record: Record) -> RenderableType:
    rows: list[tuple[str, RenderableType]] = [
        ("status", _status(record["status"])),
        ("worker", _worker_label(record)),
        ("job id", plain(record["job_id"])),
        ("start–end", plain(f"{_iso(record['start_time'])} – {_iso(record['end_time'])}")),
        ("duration", plain(_duration(record))),
    ]
    if record["retried"] or record["max_retry"]:
        rows.append(("retried", plain(f"{record['retried']} (max {record['max_retry']})")))
    if record["uniq_key"] is not None:
        rows.append(("unique key", plain(record["uniq_key"])))
    rows.append(("args", _value(record["args"])))
    rows.extend(_output_rows(record["output"]))
    return card(f"job result {record['id']}", rows)


def result_table(records: list[Record]) -> Table:
    columns = ["id", "job id", "worker", "status", "start (UTC)", "duration", "output"]
    result = table("job results", columns, short=["status", "duration"])
    for record in records:
        result.add_row(
            plain(record["id"]),
            plain(record["job_id"]),
            plain(record["worker_name"] or record["worker_id"]),
            _status(record["status"]),
            plain(_iso(record["start_time"])),
            plain(_duration(record)),
            _preview(record["output"]),
        )
    return keep_ids_whole(result, ["id", "job id"])


def _output_rows(output: Any) -> list[tuple[str, RenderableType]]:
    """Return one row per field of a decoded output (exit_code, stdout, stderr for COMMAND)."""
    if output is None:
        return [("output", plain("none (streamed or empty)", style="dim"))]
    if isinstance(output, dict) and output and "base64" not in output:
        return [(key, _value(value)) for key, value in output.items()]
    return [("output", _value(output))]


def _duration(record: Record) -> str:
    if not record["start_time"] or not record["end_time"]:
        return "-"
    return format_duration(max(0, record["end_time"] - record["start_time"]))


# Values


def _status(status: str | None) -> Text:
    if status is None:
        return plain("none (not queued or running)", style="dim")
    return plain(status, style=_STATUS_STYLES.get(status, _FAILED_STATUS_STYLE))


def _iso(epoch_ms: int) -> str:
    return iso_utc(epoch_ms) if epoch_ms else "-"


def _time_or(epoch_ms: int, missing: str) -> Text:
    return plain(iso_utc(epoch_ms)) if epoch_ms else plain(missing, style="dim")


def _value(value: Any) -> Text:
    if value is None or value == "":
        return plain("-", style="dim")
    if isinstance(value, bool):
        return plain("yes" if value else "no")
    if isinstance(value, str):
        return _capped(value)
    compact = json.dumps(value, ensure_ascii=False)
    if len(compact) <= _COMPACT_JSON_LENGTH:
        return plain(compact)
    return _capped(json.dumps(value, ensure_ascii=False, indent=2))


def _capped(text: str) -> Text:
    """Cut a long value to the card limits, noting how much was left out and how to see it."""
    kept = text[:_CARD_VALUE_MAX_CHARS]
    line_end = -1
    for _ in range(_CARD_VALUE_MAX_LINES):
        line_end = kept.find("\n", line_end + 1)
        if line_end < 0:
            break
    if line_end >= 0:
        kept = kept[:line_end]
    if len(kept) == len(text):
        return plain(text)
    hidden_chars = len(text) - len(kept)
    hidden_lines = text.count("\n", len(kept))
    result = plain(kept)
    result.append(
        f"\n… {hidden_chars:,} more characters ({hidden_lines:,} more lines) not shown; "
        "add --json to print the whole value",
        style="dim",
    )
    return result


def _preview(value: Any) -> Text:
    if value is None or value == "":
        return plain("-", style="dim")
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    if len(text) > _PREVIEW_LENGTH:
        text = text[: _PREVIEW_LENGTH - 1] + "…"
    return plain(text)
