"""A titled box of labelled values, such as the job totals of the overview."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

Stat = tuple[str, str | Text]
"""A label and its value."""


class StatsPanel(Static):
    """Labels on the left, values on the right, under a border title."""

    DEFAULT_CSS = """
    StatsPanel {
        border: round $primary;
        border-title-color: $text;
        padding: 0 1;
        height: auto;
        width: 1fr;
    }
    StatsPanel.-stale {
        border: round $panel-lighten-2;
        color: $text-muted;
    }
    """

    stats: reactive[tuple[Stat, ...]] = reactive(())

    def __init__(self, title: str, stats: Sequence[Stat] = (), *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = title
        self.set_reactive(StatsPanel.stats, tuple(stats))

    def on_mount(self) -> None:
        self._render_stats()

    def watch_stats(self) -> None:
        self._render_stats()

    def value_of(self, label: str) -> str:
        """Return the plain text shown for a label ("" when absent), for tests and scripts."""
        for shown_label, value in self.stats:
            if shown_label == label:
                return value.plain if isinstance(value, Text) else value
        return ""

    def _render_stats(self) -> None:
        grid = Table.grid(expand=True, padding=(0, 2))
        grid.add_column(style="dim")
        grid.add_column(justify="right")
        for label, value in self.stats:
            grid.add_row(label, value)
        self.update(grid)
