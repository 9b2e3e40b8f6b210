"""The shape of the table screens (runners, workers, jobs, results): a live, filterable table.

A subclass names its columns and fetches its rows. The base refreshes the
rows in a worker when the screen opens, on a timer while it is shown, on
`r`, after an action changed the server, and when the connection comes
back.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Static

from ..client import ClientError
from ..connection import ConnectionState, ConnectionStatus
from ..widgets.connection_bar import ConnectionBar
from ..widgets.resource_table import Column, ResourceTable, Row
from .base import DashboardScreen

logger = logging.getLogger(__name__)


class ResourceScreen(DashboardScreen):
    """A title, a `ResourceTable` and the footer; rows come from `fetch_rows`."""

    TITLE_TEXT: ClassVar[str] = ""
    COLUMNS: ClassVar[Sequence[Column]] = ()
    SORT_COLUMN: ClassVar[str] = ""
    SORT_REVERSE: ClassVar[bool] = False

    CSS = """
    ResourceScreen .screen-title {
        height: 1;
        padding: 0 1;
        text-style: bold;
        background: $boost;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "reload", "Refresh"),
    ]

    def compose(self) -> ComposeResult:
        yield ConnectionBar()
        yield Static(self.TITLE_TEXT, classes="screen-title")
        yield ResourceTable(
            self.COLUMNS, sort_column=self.SORT_COLUMN, sort_reverse=self.SORT_REVERSE
        )
        yield Footer()

    @property
    def table(self) -> ResourceTable:
        return self.query_one(ResourceTable)

    @property
    def selected_key(self) -> str | None:
        return self.table.selected_key

    def on_mount(self) -> None:
        self.table.focus_table()
        self.set_interval(self.dashboard.table_refresh_s, self._refresh_if_shown)
        self.watch(self.app, "connection", self._connection_changed, init=False)
        self.reload()

    def on_screen_resume(self) -> None:
        self.reload()

    def _refresh_if_shown(self) -> None:
        if self.is_current:
            self.reload()

    def _connection_changed(self, status: ConnectionStatus) -> None:
        if status.state is ConnectionState.CONNECTED:
            self.reload()

    def action_reload(self) -> None:
        self.reload()

    @work(exclusive=True, group="reload")
    async def reload(self) -> None:
        """Fetch the rows again; on failure keep the old rows and show why."""
        try:
            rows = await self.fetch_rows()
        except ClientError as error:
            logger.debug("%s: refresh failed: %s", self.TITLE_TEXT, error)
            rows = None
            message = f"refresh failed: {error}"
        else:
            message = ""
        tables = self.query(ResourceTable)
        if not tables:
            return  # The screen was removed while the rows were on their way.
        tables.first().message = message
        if rows is not None:
            tables.first().set_rows(rows)

    async def fetch_rows(self) -> list[Row]:
        """Return the rows to show; raise ClientError when the server cannot be reached."""
        raise NotImplementedError

    @on(ResourceTable.RowChosen)
    def _row_chosen(self, event: ResourceTable.RowChosen) -> None:
        self.open_row(event.key)

    def open_row(self, key: str) -> None:
        """Show the details of a row (Enter); rows without details do nothing."""
