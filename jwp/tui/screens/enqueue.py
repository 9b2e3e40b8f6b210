"""The enqueue form: pick a worker, fill in its args by the runner's schema, set options.

It dismisses with an `EnqueueRequest` (the JobRequest and a summary for
the confirmation), or None when cancelled. Sending is the caller's job.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from jwp.proto.jobworkerp.data import common_pb2, worker_pb2
from jwp.proto.jobworkerp.service import job_pb2 as job_service_pb2
from jwp.schema import SchemaError

from ..client import ClientError
from ..formatting import enum_name
from ..schemas import RunnerSchemas
from ..widgets.message_form import FormError
from ..widgets.schema_input import SchemaInput

PRIORITIES = (
    ("high", common_pb2.PRIORITY_HIGH),
    ("medium", common_pb2.PRIORITY_MEDIUM),
    ("low", common_pb2.PRIORITY_LOW),
)


@dataclass(frozen=True)
class EnqueueRequest:
    """A job request ready to send, and what it means in words."""

    request: job_service_pb2.JobRequest
    worker: worker_pb2.Worker
    summary: str


class EnqueueScreen(ModalScreen[EnqueueRequest | None]):
    """A form for one JobRequest; args are entered field by field or as JSON."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "submit", "Enqueue"),
    ]

    DEFAULT_CSS = """
    EnqueueScreen {
        align: center middle;
    }
    EnqueueScreen > VerticalScroll {
        width: 90;
        height: 90%;
        border: thick $primary;
        border-title-color: $text;
        background: $surface;
        padding: 0 1;
    }
    EnqueueScreen Label {
        margin: 1 0 0 0;
    }
    EnqueueScreen #error {
        color: $error;
        height: auto;
        margin: 1 0 0 0;
    }
    EnqueueScreen #buttons {
        height: auto;
        margin: 1 0;
        align: right middle;
    }
    EnqueueScreen #buttons Button {
        margin: 0 0 0 2;
    }
    """

    def __init__(
        self, workers: list[worker_pb2.Worker], schemas: RunnerSchemas, worker_id: int | None = None
    ) -> None:
        super().__init__()
        self.worker_choices = {worker.id.value: worker for worker in workers}
        self.schemas = schemas
        self.initial_worker_id = worker_id if worker_id in self.worker_choices else None

    def compose(self) -> ComposeResult:
        options = [
            (f"{worker.data.name} (#{worker_id})", worker_id)
            for worker_id, worker in sorted(self.worker_choices.items())
        ]
        with VerticalScroll() as scroll:
            scroll.border_title = "Enqueue a job"
            yield Label("worker")
            yield Select(
                options,
                prompt="choose a worker",
                value=self.initial_worker_id if self.initial_worker_id is not None else Select.NULL,
                id="worker",
            )
            yield SchemaInput(
                "args",
                prefix="args",
                schemas=self.schemas,
                hint="choose a worker to fill in its args",
                id="args",
            )
            yield Label("priority")
            yield Select(
                PRIORITIES, value=common_pb2.PRIORITY_MEDIUM, allow_blank=False, id="priority"
            )
            yield Label("uniq_key (optional)")
            yield Input(placeholder="a key that no other pending job has", id="uniq-key")
            yield Label("run after, in s from now (optional)")
            yield Input(type="integer", placeholder="0 runs now", id="run-after")
            yield Label("timeout, in ms (optional; 0 means none)")
            yield Input(type="integer", placeholder="unset means one year", id="timeout")
            yield Static(id="error")
            with Horizontal(id="buttons"):
                yield Button("Cancel (esc)", id="cancel")
                yield Button("Enqueue (ctrl+s)", variant="primary", id="submit")

    def on_mount(self) -> None:
        if self.initial_worker_id is not None:
            self.load_schema(self.initial_worker_id)
        else:
            self.query_one("#worker", Select).focus()

    @on(Select.Changed, "#worker")
    def _worker_changed(self, event: Select.Changed) -> None:
        if event.value is not Select.NULL:
            self.load_schema(cast(int, event.value))

    @work(exclusive=True, group="schema")
    async def load_schema(self, worker_id: int) -> None:
        """Rebuild the args inputs for the runner of the chosen worker."""
        worker = self.worker_choices[worker_id]
        try:
            runner = await self.schemas.find(worker.data.runner_id.value)
            proto_text = runner.data.job_args_proto if runner is not None else ""
            await self.query_one("#args", SchemaInput).use_schema(proto_text, None)
        except (ClientError, SchemaError) as error:
            self._show_error(f"cannot load the args schema of worker {worker.data.name!r}: {error}")
            return
        self._show_error("")

    def _show_error(self, text: str) -> None:
        error = self.query_one("#error", Static)
        error.update(text)
        if text:
            # The message sits below the last input, so on a short terminal
            # it is out of view after ctrl+s until the form scrolls to it.
            error.scroll_visible(animate=False)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#submit")
    def action_submit(self) -> None:
        self.submit()

    @work(exclusive=True, group="submit")
    async def submit(self) -> None:
        """Check every input, encode the args, and dismiss with the request."""
        try:
            request = await self._build()
        except FormError as error:
            self._show_error(str(error))
            return
        self.dismiss(request)

    async def _build(self) -> EnqueueRequest:
        selected = self.query_one("#worker", Select).value
        if selected is Select.NULL:
            raise FormError("no worker chosen; choose the worker that runs the job")
        worker = self.worker_choices[cast(int, selected)]
        args_input = self.query_one("#args", SchemaInput)
        args = await args_input.encode("args")

        request = job_service_pb2.JobRequest(worker_id=worker.id, args=args)
        request.priority = self.query_one("#priority", Select).value  # type: ignore[assignment]
        uniq_key = self.query_one("#uniq-key", Input).value.strip()
        if uniq_key:
            request.uniq_key = uniq_key
        run_after_s = _optional_int(self.query_one("#run-after", Input), "run after")
        if run_after_s:
            request.run_after_time = int(time.time() * 1000) + run_after_s * 1000
        timeout_ms = _optional_int(self.query_one("#timeout", Input), "timeout")
        if timeout_ms is not None:
            request.timeout = timeout_ms

        summary = _summary(worker, args_input.json_text(), request, run_after_s)
        return EnqueueRequest(request=request, worker=worker, summary=summary)


def _optional_int(widget: Input, label: str) -> int | None:
    text = widget.value.strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        raise FormError(f"{label}: {text!r} is not an integer") from None
    if value < 0:
        raise FormError(f"{label}: {value} is negative; use 0 or more")
    return value


def _summary(
    worker: worker_pb2.Worker,
    args_text: str,
    request: job_service_pb2.JobRequest,
    run_after_s: int | None,
) -> str:
    lines: list[Any] = [
        f"worker: {worker.data.name} (#{worker.id.value})",
        f"args: {args_text}",
        f"priority: {enum_name(common_pb2.Priority, request.priority)}",
    ]
    if request.HasField("uniq_key"):
        lines.append(f"uniq_key: {request.uniq_key}")
    if run_after_s:
        lines.append(f"runs in {run_after_s} s")
    if request.HasField("timeout"):
        lines.append(f"timeout: {request.timeout} ms")
    if worker.data.response_type == common_pb2.DIRECT:
        lines.append("DIRECT worker: the dashboard waits for the result")
    return "\n".join(lines)
