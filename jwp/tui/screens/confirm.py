"""A yes/no question before an action changes the server."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmScreen(ModalScreen[bool]):
    """Dismisses with True when the operator confirms, False otherwise."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "confirm", "Yes"),
        Binding("n,escape", "cancel", "No"),
    ]

    DEFAULT_CSS = """
    ConfirmScreen {
        align: center middle;
    }
    ConfirmScreen > Vertical {
        width: 72;
        height: auto;
        border: thick $warning;
        background: $surface;
        padding: 1 2;
    }
    ConfirmScreen .question {
        text-style: bold;
        margin: 0 0 1 0;
    }
    ConfirmScreen .summary {
        color: $text-muted;
        max-height: 16;
    }
    ConfirmScreen Horizontal {
        height: auto;
        margin: 1 0 0 0;
        align: right middle;
    }
    ConfirmScreen Button {
        margin: 0 0 0 2;
    }
    """

    def __init__(self, question: str, summary: str = "", *, confirm_label: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.summary = summary
        self.confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.question), classes="question")
            if self.summary:
                yield Static(Text(self.summary), classes="summary")
            with Horizontal():
                yield Button("Cancel (n)", id="cancel")
                yield Button(f"{self.confirm_label} (y)", variant="warning", id="confirm")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)
