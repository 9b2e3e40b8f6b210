"""The keys of the screen the operator came from (`?`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class KeysScreen(ModalScreen[None]):
    """Lists the enabled bindings of a screen with their descriptions; any listed key closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close"),
    ]

    DEFAULT_CSS = """
    KeysScreen {
        align: center middle;
    }
    KeysScreen > VerticalScroll {
        width: 64;
        height: auto;
        max-height: 90%;
        border: thick $primary;
        border-title-color: $text;
        background: $surface;
        padding: 1 2;
    }
    """

    def __init__(self, title: str, bindings: Iterable[ActiveBinding]) -> None:
        super().__init__()
        self.title_text = title
        self.rows = _rows_of(bindings)

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 3))
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        for key, description in self.rows:
            table.add_row(key, description)
        scroll = VerticalScroll(Static(table))
        scroll.border_title = f"Keys: {self.title_text}"
        yield scroll

    def action_close(self) -> None:
        self.dismiss()


def _rows_of(bindings: Iterable[ActiveBinding]) -> list[tuple[str, str]]:
    """Build one row per action with a description, its keys joined, in binding order."""
    keys_by_description: dict[str, list[str]] = {}
    for active in bindings:
        binding = active.binding
        if not active.enabled or not binding.description:
            continue
        # Textual's widgets and base classes bind navigation keys (arrows,
        # paging, tab); the list shows the keys the dashboard declares.
        if not _declared_by_dashboard(type(active.node), binding):
            continue
        key = binding.key_display or _key_label(binding.key)
        keys_by_description.setdefault(binding.description, []).append(key)
    return [(" ".join(keys), description) for description, keys in keys_by_description.items()]


def _declared_by_dashboard(node_class: type, binding: Binding) -> bool:
    for cls in node_class.__mro__:
        if not cls.__module__.startswith("jwp."):
            continue
        for declared in cls.__dict__.get("BINDINGS", ()):
            if isinstance(declared, Binding) and declared.action == binding.action:
                return True
    return False


def _key_label(key: str) -> str:
    names = {"question_mark": "?", "slash": "/", "escape": "esc", "enter": "enter"}
    return names.get(key, key)
