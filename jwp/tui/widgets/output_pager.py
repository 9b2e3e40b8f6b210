"""A pager for long text, such as the stdout of a command: one page at a time.

The text is cut to `MAX_PAGER_BYTES` and split into pages of at most
`PAGE_LINES` lines and `PAGE_CHARS` characters, so a huge output never
renders all at once. The header says how large the text is, what was cut,
and how many characters replace bytes that were not valid UTF-8.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widgets import Static

from ..formatting import format_bytes

MAX_PAGER_BYTES = 1024 * 1024
"""Text kept for paging, in UTF-8 bytes; the rest is cut and its size reported."""

PAGE_LINES = 100
PAGE_CHARS = 16_000
"""A page ends after this many characters even inside a long line."""

REPLACEMENT_CHARACTER = "\ufffd"


def cut_to_bytes(text: str, max_bytes: int) -> tuple[str, int]:
    """Return the longest prefix of `text` within `max_bytes` UTF-8 bytes, and the full size."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text, len(encoded)
    # Dropping a partial trailing character keeps the prefix valid UTF-8.
    return encoded[:max_bytes].decode("utf-8", errors="ignore"), len(encoded)


def paginate(
    text: str, *, lines_per_page: int = PAGE_LINES, chars_per_page: int = PAGE_CHARS
) -> list[str]:
    """Split text into pages of whole lines, breaking a line only when it alone is too long."""
    pages: list[str] = []
    page: list[str] = []
    size = 0
    for line in text.split("\n"):
        while len(line) > chars_per_page:
            if page:
                pages.append("\n".join(page))
                page, size = [], 0
            pages.append(line[:chars_per_page])
            line = line[chars_per_page:]
        if page and (len(page) >= lines_per_page or size + len(line) > chars_per_page):
            pages.append("\n".join(page))
            page, size = [], 0
        page.append(line)
        size += len(line) + 1
    pages.append("\n".join(page))
    return pages


class OutputPager(Vertical, can_focus=True):
    """A header and one page of text; `n` and `p` turn pages."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "next_page", "Next page"),
        Binding("p", "previous_page", "Previous page"),
    ]

    DEFAULT_CSS = """
    OutputPager {
        height: auto;
        max-height: 24;
        border: round $panel-lighten-2;
        border-title-color: $text;
    }
    OutputPager:focus {
        border: round $accent;
    }
    OutputPager > .pager-header {
        height: auto;
        color: $text-muted;
        padding: 0 1;
    }
    OutputPager > VerticalScroll {
        height: auto;
        max-height: 20;
        padding: 0 1;
    }
    """

    page: reactive[int] = reactive(0)

    def __init__(self, title: str, text: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = title
        kept, self.total_bytes = cut_to_bytes(text, MAX_PAGER_BYTES)
        self.cut_bytes = self.total_bytes - len(kept.encode("utf-8"))
        self.line_count = text.count("\n") + 1
        self.replaced = text.count(REPLACEMENT_CHARACTER)
        self.pages = paginate(kept)

    def compose(self) -> ComposeResult:
        yield Static(classes="pager-header")
        with VerticalScroll():
            yield Static(classes="pager-page")

    def on_mount(self) -> None:
        self._show_page()

    def watch_page(self) -> None:
        if self.is_mounted:
            self._show_page()

    def header_text(self) -> str:
        lines = [
            f"{format_bytes(self.total_bytes)}, {self.line_count} lines · "
            f"page {self.page + 1} of {len(self.pages)} (n: next, p: previous)"
        ]
        if self.cut_bytes:
            lines.append(
                f"showing the first {format_bytes(self.total_bytes - self.cut_bytes)} of "
                f"{format_bytes(self.total_bytes)}; {format_bytes(self.cut_bytes)} cut"
            )
        if self.replaced:
            lines.append(
                f"{self.replaced} replacement characters ({REPLACEMENT_CHARACTER}) mark bytes "
                "that were not valid UTF-8"
            )
        return "\n".join(lines)

    def _show_page(self) -> None:
        self.query_one(".pager-header", Static).update(self.header_text())
        self.query_one(".pager-page", Static).update(Text(self.pages[self.page]))
        self.query_one(VerticalScroll).scroll_home(animate=False)

    def action_next_page(self) -> None:
        self.page = min(self.page + 1, len(self.pages) - 1)

    def action_previous_page(self) -> None:
        self.page = max(self.page - 1, 0)
