"""Input of a value that a runner's schema describes: job args or worker settings.

With a schema, a `MessageForm` shows one input per field, and a checkbox
switches to a JSON editor for the whole message (the fallback for values
the form cannot express). Without a schema the value is raw bytes, entered
as text.
"""

from __future__ import annotations

import json
from typing import Any, cast

from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Checkbox, Static, TextArea

from jwp.schema import SchemaError

from ..schemas import RunnerSchemas
from .message_form import FormError, MessageForm


class SchemaInput(Vertical):
    """Fields of a schema's first message, a JSON editor, or a raw text editor."""

    DEFAULT_CSS = """
    SchemaInput {
        height: auto;
        border: round $panel-lighten-2;
        border-title-color: $text;
        padding: 0 1;
    }
    SchemaInput > .schema-hint {
        color: $text-muted;
    }
    SchemaInput > TextArea {
        height: 8;
        display: none;
    }
    SchemaInput.-json > TextArea, SchemaInput.-raw > TextArea {
        display: block;
    }
    SchemaInput.-json > MessageForm, SchemaInput.-raw > #as-json, SchemaInput.-empty > #as-json {
        display: none;
    }
    """

    def __init__(
        self,
        title: str,
        *,
        prefix: str,
        schemas: RunnerSchemas,
        hint: str = "",
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.border_title = title
        self.hint = hint
        self.prefix = prefix
        self._schemas = schemas
        self.proto_text = ""
        self.message_class: type[Message] | None = None

    def on_mount(self) -> None:
        self.add_class("-empty")

    def compose(self) -> ComposeResult:
        yield Static(self.hint, classes="schema-hint")
        yield Checkbox("edit as JSON", id="as-json")
        yield TextArea(soft_wrap=True, id="editor")

    @property
    def is_raw(self) -> bool:
        return self.message_class is None

    async def use_schema(self, proto_text: str, initial: dict[str, Any] | str | None) -> None:
        """Rebuild the inputs for a proto text (empty means raw bytes), filled with `initial`.

        Raises:
            SchemaError: The proto text does not compile.
        """
        self.proto_text = proto_text
        self.message_class = await self._schemas.message_class(proto_text)
        await self.query(MessageForm).remove()
        editor = self.query_one("#editor", TextArea)
        hint = self.query_one(".schema-hint", Static)
        self.query_one("#as-json", Checkbox).value = False
        self.remove_class("-json", "-empty")

        if self.message_class is None:
            self.add_class("-raw")
            hint.update("no schema: the value is raw bytes, entered as UTF-8 text")
            editor.text = initial if isinstance(initial, str) else ""
            return
        self.remove_class("-raw")
        descriptor = cast(Descriptor, self.message_class.DESCRIPTOR)
        hint.update(Text.assemble("fields of ", (descriptor.full_name, "bold")))
        values = initial if isinstance(initial, dict) else None
        editor.text = json.dumps(values or {}, indent=2, ensure_ascii=False)
        await self.mount(MessageForm(descriptor, values, prefix=self.prefix), before=editor)

    def json_text(self) -> str:
        """Return the value as JSON text (or the raw text without a schema).

        Raises:
            FormError: A form input or the JSON editor contains an invalid value.
        """
        editor = self.query_one("#editor", TextArea)
        if self.is_raw or self.has_class("-json"):
            return editor.text
        return json.dumps(self.query_one(MessageForm).read(), ensure_ascii=False)

    async def encode(self, label: str) -> bytes:
        """Encode the value with the schema.

        Raises:
            FormError: The value is invalid; the message names the field.
        """
        text = self.json_text()
        try:
            return await self._schemas.encode_json(self.proto_text, text, label=label)
        except SchemaError as error:
            raise FormError(str(error)) from error

    @on(Checkbox.Changed, "#as-json")
    async def _toggle_json(self, event: Checkbox.Changed) -> None:
        if self.is_raw or event.value == self.has_class("-json"):
            return
        editor = self.query_one("#editor", TextArea)
        if event.value:
            try:
                values = self.query_one(MessageForm).read()
            except FormError:
                values = {}
            editor.text = json.dumps(values, indent=2, ensure_ascii=False)
            self.add_class("-json")
            editor.focus()
            return
        # Back to the form: rebuild it from the JSON, if the JSON is an object.
        try:
            parsed = json.loads(editor.text or "{}")
        except json.JSONDecodeError:
            parsed = None
        if not isinstance(parsed, dict):
            self.notify("the JSON is not an object, so the form starts empty", severity="warning")
            parsed = {}
        self.remove_class("-json")
        await self.use_schema(self.proto_text, parsed)
