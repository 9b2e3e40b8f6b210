"""Base of every full screen of the dashboard: the app's state and read-only mode."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual.screen import Screen

if TYPE_CHECKING:
    from ..app import DashboardApp


class DashboardScreen(Screen[None]):
    """A screen whose write actions vanish from the keys and the footer in read-only mode."""

    WRITE_ACTIONS: ClassVar[frozenset[str]] = frozenset()
    """Actions that change the server: enqueue, delete, create, edit."""

    @property
    def dashboard(self) -> DashboardApp:
        return cast("DashboardApp", self.app)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in self.WRITE_ACTIONS and self.dashboard.read_only)
