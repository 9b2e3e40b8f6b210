"""Details of one job, job result, worker or runner: fields, then decoded bytes.

Args, settings and output show as JSON decoded with the runner's schemas.
String values longer than a screenful move out of the JSON into pagers,
and so does long raw text, so that a 10 MiB stdout does not stall the
screen.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static

from ..client import ClientError
from ..details import Details, Section
from ..widgets.connection_bar import ConnectionBar
from ..widgets.output_pager import REPLACEMENT_CHARACTER, OutputPager
from .base import DashboardScreen

INLINE_MAX_CHARS = 2000
"""Longer strings go to a pager instead of the JSON view."""
INLINE_MAX_LINES = 30


def is_long(text: str) -> bool:
    """True for text that belongs in a pager: long, or holding replaced invalid UTF-8."""
    return (
        len(text) > INLINE_MAX_CHARS
        or text.count("\n") >= INLINE_MAX_LINES
        or REPLACEMENT_CHARACTER in text
    )


def move_long_strings(value: Any, path: str, moved: list[tuple[str, str]]) -> Any:
    """Replace long strings in `value` by a pointer to a pager, and collect them in `moved`."""
    if isinstance(value, str) and is_long(value):
        moved.append((path, value))
        return f"<{len(value)} characters: see the pager {path!r} below>"
    if isinstance(value, dict):
        return {key: move_long_strings(item, f"{path}.{key}", moved) for key, item in value.items()}
    if isinstance(value, list):
        return [
            move_long_strings(item, f"{path}[{index}]", moved) for index, item in enumerate(value)
        ]
    return value


class DetailsScreen(DashboardScreen):
    """Loads its content in a worker, then shows it in one scrolling column."""

    CSS = """
    DetailsScreen .screen-title {
        height: 1;
        padding: 0 1;
        text-style: bold;
        background: $boost;
    }
    DetailsScreen #details {
        padding: 0 1;
    }
    DetailsScreen .fields {
        border: round $primary;
        height: auto;
        padding: 0 1;
    }
    DetailsScreen .section-title {
        margin: 1 0 0 0;
        text-style: bold;
    }
    DetailsScreen .note {
        color: $warning;
    }
    DetailsScreen .json {
        height: auto;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("tab", "focus_next", "Next pager", show=False),
    ]

    def __init__(self, title: str, load: Callable[[], Awaitable[Details]]) -> None:
        super().__init__()
        self._title = title
        self._load = load
        self.details: Details | None = None

    def compose(self) -> ComposeResult:
        yield ConnectionBar()
        yield Static(self._title, classes="screen-title", id="details-title")
        yield VerticalScroll(Static("loading…"), id="details")
        yield Footer()

    def on_mount(self) -> None:
        self.load_details()

    @work(exclusive=True)
    async def load_details(self) -> None:
        container = self.query_one("#details", VerticalScroll)
        try:
            details = await self._load()
        except ClientError as error:
            await container.remove_children()
            await container.mount(
                Static(Text(f"could not load the details: {error}"), classes="note")
            )
            return
        self.details = details
        self.query_one("#details-title", Static).update(details.title)
        await container.remove_children()
        await container.mount_all(self._widgets_of(details))
        pagers = self.query(OutputPager)
        if pagers:
            pagers.first().focus()

    def _widgets_of(self, details: Details) -> list[Static | OutputPager]:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column()
        for label, value in details.fields:
            grid.add_row(label, value)
        widgets: list[Static | OutputPager] = [Static(grid, classes="fields")]
        for section in details.sections:
            widgets += self._section_widgets(section)
        return widgets

    def _section_widgets(self, section: Section) -> list[Static | OutputPager]:
        decoded = section.decoded
        widgets: list[Static | OutputPager] = [Static(section.title, classes="section-title")]
        if decoded.note:
            widgets.append(Static(Text(decoded.note), classes="note"))
        if decoded.value is not None:
            moved: list[tuple[str, str]] = []
            shown = move_long_strings(decoded.value, section.title, moved)
            text = json.dumps(shown, indent=2, ensure_ascii=False)
            widgets.append(Static(_json_syntax(text), classes="json"))
            widgets += [OutputPager(path, value) for path, value in moved]
        elif decoded.text is not None:
            if is_long(decoded.text):
                widgets.append(OutputPager(section.title, decoded.text))
            else:
                widgets.append(Static(Text(decoded.text or "(empty)")))
        return widgets

    def action_back(self) -> None:
        self.dismiss()


def _json_syntax(text: str) -> Syntax:
    return Syntax(text, "json", theme="ansi_dark", background_color="default", word_wrap=True)
