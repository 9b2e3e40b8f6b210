"""The overview: channel load, job totals, recent results and server health, live."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Footer, Static

from jwp.proto.jobworkerp.data import common_pb2
from jwp.proto.jwp.service import dashboard_pb2

from ..connection import ConnectionState, ConnectionStatus
from ..formatting import NONE_SHOWN, enum_name, format_duration_ms
from ..widgets.channel_load_table import ChannelLoadTable
from ..widgets.connection_bar import ConnectionBar
from ..widgets.stats_panel import StatsPanel
from .base import DashboardScreen


class OverviewScreen(DashboardScreen):
    """Follows the load stream: every snapshot redraws the channels and the panels."""

    CSS = """
    OverviewScreen {
        layout: vertical;
    }
    #banner {
        display: none;
        height: auto;
        padding: 1 2;
        margin: 1 0 0 0;
    }
    OverviewScreen.-disconnected #banner {
        display: block;
        background: $error-muted;
        border: heavy $error;
    }
    OverviewScreen.-load-unavailable #banner {
        display: block;
        background: $warning-muted;
    }
    #panels {
        height: auto;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "show_channel_jobs", "Jobs of channel"),
    ]

    def compose(self) -> ComposeResult:
        yield ConnectionBar()
        yield Static(id="banner")
        yield ChannelLoadTable(id="channels")
        with Horizontal(id="panels"):
            yield StatsPanel("Jobs", _job_stats(None), id="jobs-panel")
            yield StatsPanel("Results", _result_stats(None), id="results-panel")
            yield StatsPanel("Server", (), id="server-panel")
        yield Footer()

    def on_mount(self) -> None:
        self.watch(self.app, "snapshot", self._show_snapshot)
        self.watch(self.app, "connection", self._show_connection)
        self.watch(self.app, "health", self._show_server, init=False)
        self.watch(self.app, "load_unavailable", self._show_load_unavailable)

    def _show_snapshot(self, snapshot: dashboard_pb2.ChannelLoadSnapshot | None) -> None:
        if snapshot is None:
            return
        self.query_one(ChannelLoadTable).show(snapshot, self.dashboard.history)
        self.query_one("#jobs-panel", StatsPanel).stats = _job_stats(snapshot.totals)
        results = self.query_one("#results-panel", StatsPanel)
        results.border_title = (
            f"Results, last {format_duration_ms(snapshot.results.window_s * 1000)}"
        )
        results.stats = _result_stats(snapshot.results)
        self._show_server()

    def _show_server(self, _value: object = None) -> None:
        app = self.dashboard
        snapshot = app.snapshot
        health_style = "green" if app.health == "SERVING" else "bold red"
        stats: list[tuple[str, str | Text]] = [
            ("address", app.server_label),
            ("health", Text(app.health or NONE_SHOWN, style=health_style)),
        ]
        if snapshot is not None:
            server = snapshot.server
            stats += [
                ("version", server.version),
                ("storage", enum_name(common_pb2.StorageType, server.storage_type).title()),
                ("uptime", format_duration_ms(server.uptime_ms)),
            ]
        self.query_one("#server-panel", StatsPanel).stats = tuple(stats)

    def _show_connection(self, status: ConnectionStatus) -> None:
        lost = status.state is ConnectionState.DISCONNECTED
        self.set_class(lost, "-disconnected")
        for widget in self.query("ChannelLoadTable, StatsPanel"):
            widget.set_class(status.state is not ConnectionState.CONNECTED, "-stale")
        if lost:
            self.query_one("#banner", Static).update(
                Text.assemble(
                    ("Disconnected", "bold"),
                    f" from {self.dashboard.server_label}: {status.error}\n",
                    f"Reconnecting in {status.retry_in_s:.1f} s (attempt {status.attempt}). ",
                    "The numbers below are from the last snapshot.",
                )
            )
        else:
            self._show_load_unavailable(self.dashboard.load_unavailable)
        self._show_server()

    def _show_load_unavailable(self, reason: str) -> None:
        self.set_class(bool(reason), "-load-unavailable")
        if reason and not self.has_class("-disconnected"):
            self.query_one("#banner", Static).update(reason)

    def action_show_channel_jobs(self) -> None:
        """Open the jobs table filtered to the channel under the cursor."""
        table = self.query_one(ChannelLoadTable)
        if table.row_count == 0:
            return
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        self.dashboard.show_jobs_of_channel(row_key.value or "")


def _job_stats(totals: dashboard_pb2.JobTotals | None) -> tuple[tuple[str, str | Text], ...]:
    if totals is None:
        return tuple(
            (label, NONE_SHOWN) for label in ("pending", "scheduled", "periodic", "running")
        )
    return (
        ("pending", Text(str(totals.pending), style="bold yellow" if totals.pending else "")),
        ("scheduled", str(totals.scheduled)),
        ("periodic", str(totals.periodic)),
        ("running", Text(str(totals.running), style="bold cyan" if totals.running else "")),
    )


def _result_stats(results: dashboard_pb2.ResultCounts | None) -> tuple[tuple[str, str | Text], ...]:
    labels = ("succeeded", "failed", "cancelled", "retried")
    if results is None:
        return tuple((label, NONE_SHOWN) for label in labels)
    return (
        (
            "succeeded",
            Text(str(results.succeeded), style="bold green" if results.succeeded else ""),
        ),
        ("failed", Text(str(results.failed), style="bold red" if results.failed else "")),
        ("cancelled", Text(str(results.cancelled), style="magenta" if results.cancelled else "")),
        ("retried", Text(str(results.retried), style="yellow" if results.retried else "")),
    )
