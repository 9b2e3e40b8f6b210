"""The top line of every screen: server, connection state and health."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.widgets import Static

from ..connection import ConnectionState

if TYPE_CHECKING:
    from ..app import DashboardApp


class ConnectionBar(Static):
    """Shows where the dashboard is connected, and turns red while it is not."""

    DEFAULT_CSS = """
    ConnectionBar {
        dock: top;
        height: 1;
        padding: 0 1;
        background: $primary-background;
    }
    ConnectionBar.-connecting {
        background: $warning-muted;
    }
    ConnectionBar.-disconnected {
        background: $error;
        color: $text;
        text-style: bold;
    }
    """

    @property
    def dashboard(self) -> DashboardApp:
        return cast("DashboardApp", self.app)

    def on_mount(self) -> None:
        self.watch(self.app, "connection", self._redraw, init=False)
        self.watch(self.app, "health", self._redraw, init=False)
        self._redraw()

    def _redraw(self, _value: object = None) -> None:
        app = self.dashboard
        status = app.connection
        self.set_class(status.state is ConnectionState.CONNECTING, "-connecting")
        self.set_class(status.state is ConnectionState.DISCONNECTED, "-disconnected")

        text = Text()
        if status.state is ConnectionState.CONNECTED:
            text.append("● ", style="green")
        elif status.state is ConnectionState.CONNECTING:
            text.append("◌ ", style="yellow")
        else:
            text.append("✖ ")
        text.append(f"jwp {app.server_label}  ")
        text.append(status.describe())
        if status.state is ConnectionState.CONNECTED and app.health:
            style = "green" if app.health == "SERVING" else "bold red"
            text.append("  health ")
            text.append(app.health, style=style)
        if app.read_only:
            text.append("  [read-only]", style="italic")
        self.update(text)
