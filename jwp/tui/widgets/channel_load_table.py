"""Per-channel load: concurrency, running and queued jobs, and a throughput sparkline."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from jwp.proto.jwp.service import dashboard_pb2

from ..formatting import channel_label, sparkline_text
from ..load_history import LoadHistory

SPARKLINE_WIDTH = 40
"""Samples drawn per channel; the newest is at the right."""

COLUMNS = (
    ("channel", "channel"),
    ("concurrency", "concurrency"),
    ("running", "running"),
    ("queued", "queued"),
    ("finished", "finished/interval"),
    ("throughput", "finished per interval, last 40"),
)


class ChannelLoadTable(DataTable[Any]):
    """One row per channel, redrawn from each load snapshot."""

    DEFAULT_CSS = """
    ChannelLoadTable {
        height: auto;
        max-height: 16;
        border: round $primary;
        border-title-color: $text;
    }
    ChannelLoadTable.-stale {
        border: round $panel-lighten-2;
        color: $text-muted;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, id=id)
        self.border_title = "Channels"

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    def show(self, snapshot: dashboard_pb2.ChannelLoadSnapshot, history: LoadHistory) -> None:
        """Replace the rows with the channels of a snapshot, keeping the cursor's channel."""
        selected = self.cursor_row
        self.clear()
        for channel in snapshot.channels:
            self.add_row(*self._cells(channel, history), key=channel.name)
        if self.row_count:
            self.move_cursor(row=min(selected, self.row_count - 1))

    @staticmethod
    def _cells(channel: dashboard_pb2.ChannelLoad, history: LoadHistory) -> tuple[str | Text, ...]:
        if channel.concurrency == 0:
            concurrency = Text("not served", style="yellow")
        else:
            concurrency = Text(str(channel.concurrency))
        busy = channel.concurrency > 0 and channel.running >= channel.concurrency
        running = Text(str(channel.running), style="bold cyan" if busy else "")
        queued = Text(str(channel.queued), style="bold yellow" if channel.queued else "")
        spark = sparkline_text(history.finished(channel.name), SPARKLINE_WIDTH)
        return (
            channel_label(channel.name),
            concurrency,
            running,
            queued,
            str(channel.finished_in_interval),
            Text(spark, style="green"),
        )
