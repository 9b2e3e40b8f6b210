"""The worker form, for a new worker or a change to one.

It dismisses with the WorkerData to send and a summary for the
confirmation, or None when cancelled. Settings are entered by the
runner's settings schema, like job args in the enqueue form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from jwp.names import name_problem
from jwp.proto.jobworkerp.data import common_pb2, runner_pb2, worker_pb2
from jwp.schema import SchemaError

from ..client import ClientError
from ..formatting import channel_label, enum_name
from ..schemas import RunnerSchemas
from ..widgets.message_form import FormError
from ..widgets.schema_input import SchemaInput

QUEUE_TYPES = [(name, value) for name, value in common_pb2.QueueType.items()]
RESPONSE_TYPES = [(name, value) for name, value in common_pb2.ResponseType.items()]
RETRY_TYPES = [(name, value) for name, value in common_pb2.RetryType.items()]

FLAGS = ("store_success", "store_failure", "broadcast_results", "use_static")


@dataclass(frozen=True)
class WorkerFormResult:
    data: worker_pb2.WorkerData
    summary: str


class WorkerFormScreen(ModalScreen[WorkerFormResult | None]):
    """Every field of WorkerData; editing starts from the worker's current values."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "submit", "Save"),
    ]

    DEFAULT_CSS = """
    WorkerFormScreen {
        align: center middle;
    }
    WorkerFormScreen > VerticalScroll {
        width: 90;
        height: 90%;
        border: thick $primary;
        border-title-color: $text;
        background: $surface;
        padding: 0 1;
    }
    WorkerFormScreen Label {
        margin: 1 0 0 0;
    }
    WorkerFormScreen #flags, WorkerFormScreen #buttons {
        height: auto;
    }
    WorkerFormScreen #error {
        color: $error;
        height: auto;
        margin: 1 0 0 0;
    }
    WorkerFormScreen #buttons {
        margin: 1 0;
        align: right middle;
    }
    WorkerFormScreen #buttons Button {
        margin: 0 0 0 2;
    }
    """

    def __init__(
        self,
        runners: list[runner_pb2.Runner],
        channels: list[str],
        schemas: RunnerSchemas,
        worker: worker_pb2.Worker | None = None,
    ) -> None:
        super().__init__()
        self.runners = {runner.id.value: runner for runner in runners}
        self.channels = channels
        self.schemas = schemas
        self.worker = worker

    def compose(self) -> ComposeResult:
        data = self.worker.data if self.worker is not None else worker_pb2.WorkerData()
        policy = data.retry_policy
        runner_options = [
            (f"{runner.data.name} (#{runner_id})", runner_id)
            for runner_id, runner in sorted(self.runners.items())
        ]
        runner_id = data.runner_id.value if data.runner_id.value in self.runners else Select.NULL
        served = ", ".join(channel_label(name) for name in self.channels)

        with VerticalScroll() as scroll:
            scroll.border_title = (
                f"Edit worker {data.name} (#{self.worker.id.value})"
                if self.worker
                else "New worker"
            )
            yield Label("name")
            yield Input(data.name, placeholder="a unique name", id="name")
            yield Label("description")
            yield Input(data.description, id="description")
            yield Label("runner")
            yield Select(runner_options, value=runner_id, prompt="choose a runner", id="runner")
            yield SchemaInput(
                "settings",
                prefix="settings",
                schemas=self.schemas,
                hint="choose a runner to fill in its settings",
                id="settings",
            )
            yield Label(f"channel (empty means the default channel; served: {served})")
            yield Input(
                data.channel if data.HasField("channel") else "",
                placeholder="default",
                id="channel",
            )
            yield Label("periodic interval, in ms (0: not periodic)")
            yield Input(str(data.periodic_interval), type="integer", id="periodic")
            yield Label("queue type")
            yield Select(QUEUE_TYPES, value=data.queue_type, allow_blank=False, id="queue-type")
            yield Label("response type")
            yield Select(
                RESPONSE_TYPES, value=data.response_type, allow_blank=False, id="response-type"
            )
            with Horizontal(id="flags"):
                for flag in FLAGS:
                    yield Checkbox(flag, value=bool(getattr(data, flag)), id=flag.replace("_", "-"))
            yield Label("retry type, interval ms, max interval ms, max retry, basis")
            yield Select(RETRY_TYPES, value=policy.type, allow_blank=False, id="retry-type")
            with Horizontal(id="retry"):
                yield Input(str(policy.interval), type="integer", id="retry-interval")
                yield Input(str(policy.max_interval), type="integer", id="retry-max-interval")
                yield Input(str(policy.max_retry), type="integer", id="retry-max-retry")
                yield Input(f"{policy.basis or 2.0:g}", type="number", id="retry-basis")
            yield Static(id="error")
            with Horizontal(id="buttons"):
                yield Button("Cancel (esc)", id="cancel")
                yield Button("Save (ctrl+s)", variant="primary", id="submit")

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()
        if self.worker is not None:
            self.load_schema(self.worker.data.runner_id.value, self.worker.data.runner_settings)

    @on(Select.Changed, "#runner")
    def _runner_changed(self, event: Select.Changed) -> None:
        if event.value is Select.NULL:
            return
        runner_id = cast(int, event.value)
        same = self.worker is not None and runner_id == self.worker.data.runner_id.value
        if not same:
            self.load_schema(runner_id, None)

    @work(exclusive=True, group="schema")
    async def load_schema(self, runner_id: int, settings: bytes | None) -> None:
        """Rebuild the settings inputs for a runner, filled from the current settings bytes."""
        runner = self.runners.get(runner_id)
        proto_text = runner.data.runner_settings_proto if runner is not None else ""
        initial: dict[str, Any] | str | None = None
        try:
            if settings is not None:
                decoded = await self.schemas.decode(proto_text, settings, label="settings")
                initial = decoded.value if decoded.value is not None else decoded.text
            await self.query_one("#settings", SchemaInput).use_schema(proto_text, initial)
        except (ClientError, SchemaError) as error:
            self._show_error(f"cannot load the settings schema of runner {runner_id}: {error}")
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
        try:
            result = await self._build()
        except FormError as error:
            self._show_error(str(error))
            return
        self.dismiss(result)

    async def _build(self) -> WorkerFormResult:
        name = self.query_one("#name", Input).value.strip()
        problem = name_problem(name, "worker")
        if problem is not None:
            raise FormError(problem)
        runner_choice = self.query_one("#runner", Select).value
        if runner_choice is Select.NULL:
            raise FormError("no runner chosen; choose the runner this worker uses")
        settings_input = self.query_one("#settings", SchemaInput)
        settings = await settings_input.encode("settings")

        data = worker_pb2.WorkerData(
            name=name,
            description=self.query_one("#description", Input).value,
            runner_id=runner_pb2.RunnerId(value=cast(int, runner_choice)),
            runner_settings=settings,
            periodic_interval=self._int("#periodic", "periodic interval"),
            queue_type=self.query_one("#queue-type", Select).value,  # type: ignore[arg-type]
            response_type=self.query_one("#response-type", Select).value,  # type: ignore[arg-type]
        )
        policy = self._retry_policy()
        if policy.type != common_pb2.NONE or policy.max_retry:
            data.retry_policy.CopyFrom(policy)
        channel = self.query_one("#channel", Input).value.strip()
        if channel:
            data.channel = channel
        for flag in FLAGS:
            setattr(data, flag, self.query_one(f"#{flag.replace('_', '-')}", Checkbox).value)
        if self.worker is not None:
            data.next_workers.extend(self.worker.data.next_workers)
        return WorkerFormResult(data=data, summary=_summary(data, settings_input.json_text()))

    def _retry_policy(self) -> common_pb2.RetryPolicy:
        basis_text = self.query_one("#retry-basis", Input).value.strip() or "2"
        try:
            basis = float(basis_text)
        except ValueError:
            raise FormError(f"retry basis: {basis_text!r} is not a number") from None
        return common_pb2.RetryPolicy(
            type=self.query_one("#retry-type", Select).value,  # type: ignore[arg-type]
            interval=self._int("#retry-interval", "retry interval"),
            max_interval=self._int("#retry-max-interval", "retry max interval"),
            max_retry=self._int("#retry-max-retry", "max retry"),
            basis=basis,
        )

    def _int(self, selector: str, label: str) -> int:
        text = self.query_one(selector, Input).value.strip() or "0"
        try:
            value = int(text)
        except ValueError:
            raise FormError(f"{label}: {text!r} is not an integer") from None
        if value < 0:
            raise FormError(f"{label}: {value} is negative; use 0 or more")
        return value


def _summary(data: worker_pb2.WorkerData, settings_text: str) -> str:
    flags = [flag for flag in FLAGS if getattr(data, flag)]
    lines = [
        f"name: {data.name}",
        f"runner: {data.runner_id.value}",
        f"settings: {settings_text or '(empty)'}",
        f"channel: {channel_label(data.channel if data.HasField('channel') else '')}",
        f"queue type: {enum_name(common_pb2.QueueType, data.queue_type)}, "
        f"response type: {enum_name(common_pb2.ResponseType, data.response_type)}",
        f"periodic interval: {data.periodic_interval} ms",
        f"retry: {enum_name(common_pb2.RetryType, data.retry_policy.type)}, "
        f"max retry {data.retry_policy.max_retry}",
        f"flags: {', '.join(flags) or 'none'}",
    ]
    return "\n".join(lines)
