"""Live results: choose workers with broadcast_results and watch their results arrive.

Each chosen worker gets a Textual worker that keeps a ListenByWorker
stream open and reconnects with backoff when it breaks. Results show
newest first; the list keeps the last `MAX_RESULTS`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, SelectionList, Static
from textual.worker import Worker

from jwp.proto.jobworkerp.data import job_result_pb2, worker_pb2

from ..backoff import Backoff
from ..client import ClientError
from ..connection import ConnectionState, ConnectionStatus
from ..widgets.connection_bar import ConnectionBar
from ..widgets.resource_table import Column, ResourceTable, Row
from .base import DashboardScreen
from .results import ResultsScreen, result_row

logger = logging.getLogger(__name__)

MAX_RESULTS = 1000


class LiveResultsScreen(DashboardScreen):
    """A list of broadcasting workers to pick from, and the results of the picked ones."""

    CSS = """
    LiveResultsScreen .screen-title {
        height: 1;
        padding: 0 1;
        text-style: bold;
        background: $boost;
    }
    LiveResultsScreen #picker {
        width: 36;
        border: round $primary;
        border-title-color: $text;
    }
    LiveResultsScreen #picker SelectionList {
        height: 1fr;
        border: none;
    }
    LiveResultsScreen #listen-status {
        height: auto;
        max-height: 8;
        color: $text-muted;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("w", "focus_workers", "Pick workers"),
        Binding("c", "clear", "Clear"),
        Binding("r", "reload_workers", "Reload workers"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._broadcasting: dict[int, worker_pb2.Worker] = {}
        self._listeners: dict[int, Worker[None]] = {}
        self._listen_status: dict[int, str] = {}
        self._results: dict[str, job_result_pb2.JobResult] = {}
        self._rows: list[Row] = []
        self._sequence = 0
        self._wanted: set[int] = set()
        self._rebuilding = False

    def compose(self) -> ComposeResult:
        yield ConnectionBar()
        yield Static("Live results (newest first)", classes="screen-title")
        with Horizontal():
            with Vertical(id="picker"):
                yield SelectionList[int](id="workers")
                yield Static("pick workers with space", id="listen-status")
            yield ResourceTable(
                (Column("seq", "#"), *ResultsScreen.COLUMNS), sort_column="seq", sort_reverse=True
            )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#picker").border_title = "Workers with broadcast_results"
        self.query_one(ResourceTable).set_rows([])
        self.watch(self.app, "connection", self._connection_changed, init=False)
        self.load_workers()

    def _connection_changed(self, status: ConnectionStatus) -> None:
        if status.state is ConnectionState.CONNECTED:
            self.load_workers()

    @property
    def listen_status(self) -> dict[int, str]:
        """What each listener is doing, by worker id: connecting, listening, or its error."""
        return dict(self._listen_status)

    @property
    def listening_to(self) -> list[int]:
        """Ids of the workers with an open or reconnecting listener."""
        return sorted(self._listeners)

    def select_worker(self, worker_id: int) -> None:
        """Listen to a worker (from the workers screen); it must have broadcast_results."""
        self._wanted.add(worker_id)
        selection = self.query_one("#workers", SelectionList)
        if worker_id in self._broadcasting:
            selection.select(worker_id)
        else:
            self.load_workers()

    @work(exclusive=True, group="workers")
    async def load_workers(self) -> None:
        """Fetch the workers with broadcast_results and keep the picked ones picked."""
        try:
            workers = await self.dashboard.client.list_workers()
        except ClientError as error:
            self.query_one("#listen-status", Static).update(Text(f"cannot list workers: {error}"))
            return
        broadcasting = {w.id.value: w for w in workers if w.data.broadcast_results}
        selection = self.query_one("#workers", SelectionList)
        wanted = set(selection.selected) | self._wanted
        self._wanted = set()
        if _names(broadcasting) != _names(self._broadcasting):
            self._broadcasting = broadcasting
            self._rebuilding = True
            selection.clear_options()
            selection.add_options(
                [
                    (f"{worker.data.name} (#{worker_id})", worker_id, worker_id in wanted)
                    for worker_id, worker in sorted(broadcasting.items())
                ]
            )
            self._rebuilding = False
        else:
            for worker_id in wanted & broadcasting.keys():
                selection.select(worker_id)
        self._sync_listeners()

    @on(SelectionList.SelectedChanged, "#workers")
    def _selection_changed(self) -> None:
        if not self._rebuilding:
            self._sync_listeners()

    def _sync_listeners(self) -> None:
        selected = set(self.query_one("#workers", SelectionList).selected)
        for worker_id in set(self._listeners) - selected:
            self._listeners.pop(worker_id).cancel()
            self._listen_status.pop(worker_id, None)
        for worker_id in selected - set(self._listeners):
            self._listeners[worker_id] = self.run_worker(
                self._listen(worker_id), group="listen", exit_on_error=False
            )
        self._show_listen_status()

    async def _listen(self, worker_id: int) -> None:
        """Keep a ListenByWorker stream open for one worker, reconnecting with backoff."""
        backoff = Backoff()
        name = (
            self._broadcasting[worker_id].data.name
            if worker_id in self._broadcasting
            else str(worker_id)
        )

        async def subscribed() -> None:
            self._set_listen_status(worker_id, f"{name}: listening")

        while True:
            self._set_listen_status(worker_id, f"{name}: connecting")
            try:
                client = self.dashboard.client
                async for result in client.listen_by_worker(worker_id, subscribed):
                    backoff.reset()
                    self.add_result(result)
                error = "the server ended the stream"
            except ClientError as failure:
                error = str(failure)
            delay = backoff.next_delay()
            logger.debug(
                "listener of worker %d stopped (%s); retrying in %.1f s", worker_id, error, delay
            )
            self._set_listen_status(worker_id, f"{name}: {error}; retrying in {delay:.1f} s")
            await asyncio.sleep(delay)

    def _set_listen_status(self, worker_id: int, text: str) -> None:
        self._listen_status[worker_id] = text
        self._show_listen_status()

    def _show_listen_status(self) -> None:
        lines = [self._listen_status[worker_id] for worker_id in sorted(self._listen_status)]
        text = "\n".join(lines) if lines else "pick workers with space"
        self.query_one("#listen-status", Static).update(Text(text))

    def add_result(self, result: job_result_pb2.JobResult) -> None:
        self._sequence += 1
        row = result_row(result)
        row = Row(
            key=f"{self._sequence}:{row.key}",
            cells=(str(self._sequence), *row.cells),
            sort_values=(self._sequence, *row.sort_values),
        )
        self._results[row.key] = result
        self._rows.append(row)
        if len(self._rows) > MAX_RESULTS:
            dropped = self._rows.pop(0)
            self._results.pop(dropped.key, None)
        self.query_one(ResourceTable).set_rows(self._rows)

    @on(ResourceTable.RowChosen)
    def _row_chosen(self, event: ResourceTable.RowChosen) -> None:
        result = self._results.get(event.key)
        if result is not None:
            self.dashboard.show_result(result)

    def action_focus_workers(self) -> None:
        self.query_one("#workers", SelectionList).focus()

    def action_clear(self) -> None:
        self._rows.clear()
        self._results.clear()
        self.query_one(ResourceTable).set_rows([])

    def action_reload_workers(self) -> None:
        self.load_workers()


def _names(workers: dict[int, worker_pb2.Worker]) -> dict[int, str]:
    return {worker_id: worker.data.name for worker_id, worker in workers.items()}
