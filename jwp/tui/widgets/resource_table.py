"""A table of resources that the operator can sort and filter."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable, Input, Static
from textual.widgets.data_table import RowDoesNotExist


@dataclass(frozen=True)
class Column:
    key: str
    label: str


@dataclass(frozen=True)
class Row:
    """One table row: what is shown, and the values it sorts by (one per column)."""

    key: str
    cells: tuple[str | Text, ...]
    sort_values: tuple[Any, ...]

    def matches(self, words: Sequence[str]) -> bool:
        """True when every word occurs in some cell, ignoring case."""
        text = " ".join(cell.plain if isinstance(cell, Text) else cell for cell in self.cells)
        text = text.lower()
        return all(word in text for word in words)


class _Table(DataTable[Any]):
    """A DataTable whose Enter reads as "Open" in the keys list."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open", show=False),
    ]


class ResourceTable(Vertical):
    """A DataTable with a filter line (`/`) and sorting by column (`s`, `S`, header click).

    The rows are kept apart from the DataTable, so a refresh, a new filter
    or a new sort order rebuilds it and puts the cursor back on the same row.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "start_filter", "Filter"),
        Binding("s", "sort_next", "Sort"),
        Binding("S", "reverse_sort", "Reverse", show=False),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    DEFAULT_CSS = """
    ResourceTable {
        height: 1fr;
    }
    ResourceTable > DataTable {
        height: 1fr;
    }
    ResourceTable > #filter {
        display: none;
        height: 3;
    }
    ResourceTable.-filtering > #filter {
        display: block;
    }
    ResourceTable > #table-status {
        height: 1;
        color: $text-muted;
        padding: 0 1;
    }
    """

    filter_text: reactive[str] = reactive("")
    sort_column: reactive[str] = reactive("")
    sort_reverse: reactive[bool] = reactive(False)
    message: reactive[str] = reactive("")
    """Extra text for the status line, e.g. why the last refresh failed."""

    class RowChosen(Message):
        """The operator pressed Enter on a row."""

        def __init__(self, table: ResourceTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        sort_column: str = "",
        sort_reverse: bool = False,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.columns = list(columns)
        self._rows: list[Row] = []
        self._loaded = False
        self.set_reactive(ResourceTable.sort_column, sort_column)
        self.set_reactive(ResourceTable.sort_reverse, sort_reverse)

    def compose(self) -> ComposeResult:
        yield _Table(cursor_type="row", zebra_stripes=True)
        yield Input(placeholder="filter: words that every shown row contains", id="filter")
        yield Static("loading…", id="table-status")

    @property
    def data_table(self) -> DataTable[Any]:
        return self.query_one(DataTable)

    @property
    def rows(self) -> list[Row]:
        return list(self._rows)

    @property
    def shown_keys(self) -> list[str]:
        """Keys of the rows shown now, in display order."""
        return [row.key for row in self._shown_rows()]

    @property
    def selected_key(self) -> str | None:
        """Key of the row under the cursor, or None when the table is empty."""
        table = self.data_table
        if table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return row_key.value

    def set_rows(self, rows: Sequence[Row]) -> None:
        self._rows = list(rows)
        self._loaded = True
        self._rebuild()

    def focus_table(self) -> None:
        self.data_table.focus()

    def _shown_rows(self) -> list[Row]:
        words = self.filter_text.lower().split()
        rows = [row for row in self._rows if row.matches(words)]
        index = self._column_index(self.sort_column)
        if index is None:
            return rows
        # Rows without a value in the sort column go last, whatever the direction.
        valued = [row for row in rows if row.sort_values[index] is not None]
        missing = [row for row in rows if row.sort_values[index] is None]
        valued.sort(key=lambda row: row.sort_values[index], reverse=self.sort_reverse)
        return valued + missing

    def _column_index(self, key: str) -> int | None:
        for index, column in enumerate(self.columns):
            if column.key == key:
                return index
        return None

    def _rebuild(self) -> None:
        # A refresh can end while the screen is being removed (the app quits).
        tables = self.query(_Table)
        if not self.is_mounted or not tables:
            return
        table = tables.first()
        selected = self.selected_key
        table.clear(columns=True)
        for column in self.columns:
            table.add_column(self._column_label(column), key=column.key)
        shown = self._shown_rows()
        for row in shown:
            table.add_row(*row.cells, key=row.key)
        if selected is not None:
            with contextlib.suppress(RowDoesNotExist):
                table.move_cursor(row=table.get_row_index(selected))
        self._update_status(len(shown))

    def _column_label(self, column: Column) -> Text:
        if column.key != self.sort_column:
            return Text(column.label)
        arrow = " ▼" if self.sort_reverse else " ▲"
        return Text(column.label + arrow, style="bold")

    def _update_status(self, shown: int) -> None:
        if not self._loaded:
            text = "loading…"
        elif self.filter_text.strip():
            text = f"{shown} of {len(self._rows)} rows match {self.filter_text.strip()!r}"
        else:
            text = f"{len(self._rows)} rows"
        if self.message:
            text = f"{text} · {self.message}"
        self.query_one("#table-status", Static).update(text)

    def on_mount(self) -> None:
        self._rebuild()

    def watch_filter_text(self) -> None:
        self._rebuild()

    def watch_sort_column(self) -> None:
        self._rebuild()

    def watch_sort_reverse(self) -> None:
        self._rebuild()

    def watch_message(self) -> None:
        if self.is_mounted and self.query("#table-status"):
            self._update_status(len(self._shown_rows()))

    def action_start_filter(self) -> None:
        self.add_class("-filtering")
        self.query_one("#filter", Input).focus()

    def action_clear_filter(self) -> None:
        self.query_one("#filter", Input).value = ""
        self.filter_text = ""
        self.remove_class("-filtering")
        self.focus_table()

    def action_sort_next(self) -> None:
        """Sort by the next column, starting over after the last one."""
        index = self._column_index(self.sort_column)
        next_index = 0 if index is None else (index + 1) % len(self.columns)
        self.sort_column = self.columns[next_index].key

    def action_reverse_sort(self) -> None:
        self.sort_reverse = not self.sort_reverse

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.focus_table()

    @on(DataTable.HeaderSelected)
    def _header_selected(self, event: DataTable.HeaderSelected) -> None:
        key = event.column_key.value or ""
        if key == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column = key

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.RowChosen(self, event.row_key.value))
