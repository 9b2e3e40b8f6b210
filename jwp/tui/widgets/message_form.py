"""Form fields for the top-level fields of one protobuf message, read back as a JSON object.

Scalars get an input of their type, booleans a checkbox, enums a
selection. Repeated, map and message fields take JSON, so every message
can be entered even where a dedicated widget would not fit. The JSON
object that `read` returns follows the proto3 JSON mapping with the
declared field names, ready for `jwp.schema.json_to_message_bytes`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Checkbox, Input, Label, Select

FieldKind = Literal["string", "integer", "number", "bool", "optional_bool", "enum", "bytes", "json"]

INTEGER_TYPES = frozenset(
    {
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_SINT32,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_FIXED32,
        FieldDescriptor.TYPE_FIXED64,
        FieldDescriptor.TYPE_SFIXED32,
        FieldDescriptor.TYPE_SFIXED64,
    }
)
NUMBER_TYPES = frozenset({FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE})


class FormError(ValueError):
    """A form value that cannot be read; the message names the field."""


@dataclass(frozen=True)
class FieldSpec:
    """The input kind and hint of one message field."""

    name: str
    kind: FieldKind
    hint: str
    enum_names: tuple[str, ...] = ()


def field_specs(descriptor: Descriptor) -> list[FieldSpec]:
    """Describe the top-level fields of a message in declaration order."""
    return [_spec_of(field) for field in descriptor.fields]


def _spec_of(field: FieldDescriptor) -> FieldSpec:
    oneof = field.containing_oneof
    # proto3 `optional` fields sit in a synthetic oneof named after the field.
    in_real_oneof = oneof is not None and oneof.name != f"_{field.name}"
    suffix = f", one of {oneof.name}" if in_real_oneof and oneof is not None else ""

    message_type = field.message_type
    if message_type is not None and message_type.GetOptions().map_entry:
        return FieldSpec(field.name, "json", f"map, as a JSON object{suffix}")
    if field.is_repeated:
        item = _type_label(field)
        return FieldSpec(field.name, "json", f"list of {item}, as a JSON array{suffix}")
    if message_type is not None:
        return FieldSpec(field.name, "json", f"{message_type.name}, as a JSON object{suffix}")
    if field.type == FieldDescriptor.TYPE_BOOL:
        if field.has_presence:
            return FieldSpec(field.name, "optional_bool", f"optional bool{suffix}")
        return FieldSpec(field.name, "bool", f"bool{suffix}")
    enum_type = field.enum_type
    if field.type == FieldDescriptor.TYPE_ENUM and enum_type is not None:
        names = tuple(value.name for value in enum_type.values)
        return FieldSpec(field.name, "enum", f"{enum_type.name}{suffix}", names)
    if field.type in INTEGER_TYPES:
        return FieldSpec(field.name, "integer", f"{_type_label(field)}{suffix}")
    if field.type in NUMBER_TYPES:
        return FieldSpec(field.name, "number", f"{_type_label(field)}{suffix}")
    if field.type == FieldDescriptor.TYPE_BYTES:
        return FieldSpec(field.name, "bytes", f"bytes, base64{suffix}")
    return FieldSpec(field.name, "string", f"string{suffix}")


def _type_label(field: FieldDescriptor) -> str:
    if field.message_type is not None:
        return str(field.message_type.name)
    if field.enum_type is not None:
        return str(field.enum_type.name)
    names = {
        value: name.removeprefix("TYPE_").lower()
        for name, value in vars(FieldDescriptor).items()
        if name.startswith("TYPE_")
    }
    return names.get(field.type, "value")


class MessageForm(Vertical):
    """One labelled input per field; `read` returns the JSON object the inputs describe.

    Empty inputs are left out of the object, so the field keeps its default
    (or stays unset when it has presence).
    """

    DEFAULT_CSS = """
    MessageForm {
        height: auto;
    }
    MessageForm > Label {
        margin: 1 0 0 0;
    }
    """

    def __init__(
        self,
        descriptor: Descriptor,
        initial: Mapping[str, Any] | None = None,
        *,
        prefix: str,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.descriptor = descriptor
        self.specs = field_specs(descriptor)
        self.initial = dict(initial or {})
        self.prefix = prefix

    def input_id(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def compose(self) -> ComposeResult:
        for spec in self.specs:
            if spec.kind != "bool":
                yield Label(Text.assemble((spec.name, "bold"), "  ", (spec.hint, "dim")))
            yield self._input_of(spec, self.initial.get(spec.name))

    def _input_of(self, spec: FieldSpec, initial: Any) -> Input | Checkbox | Select[Any]:
        widget_id = self.input_id(spec.name)
        if spec.kind == "bool":
            return Checkbox(f"{spec.name}  ({spec.hint})", value=bool(initial), id=widget_id)
        if spec.kind == "optional_bool":
            value: Any = Select.NULL if initial is None else bool(initial)
            return Select([("true", True), ("false", False)], value=value, id=widget_id)
        if spec.kind == "enum":
            options = [(name, name) for name in spec.enum_names]
            chosen = initial if initial in spec.enum_names else Select.NULL
            return Select(options, value=chosen, prompt="(default)", id=widget_id)
        if spec.kind == "json":
            text = json.dumps(initial, ensure_ascii=False) if initial not in (None, [], {}) else ""
            return Input(text, placeholder=spec.hint, id=widget_id)
        if spec.kind == "integer":
            return Input(_text_of(initial), type="integer", placeholder=spec.hint, id=widget_id)
        if spec.kind == "number":
            return Input(_text_of(initial), type="number", placeholder=spec.hint, id=widget_id)
        return Input(_text_of(initial), placeholder=spec.hint, id=widget_id)

    def read(self) -> dict[str, Any]:
        """Return the entered values as a JSON object.

        Raises:
            FormError: An input does not hold a value of its field's type.
        """
        value: dict[str, Any] = {}
        for spec in self.specs:
            widget = self.query_one(f"#{self.input_id(spec.name)}")
            field_value = _read_field(spec, widget)
            if field_value is not None:
                value[spec.name] = field_value
        return value


def _text_of(value: Any) -> str:
    return "" if value is None else str(value)


def _read_field(spec: FieldSpec, widget: Any) -> Any:
    if isinstance(widget, Checkbox):
        return True if widget.value else None
    if isinstance(widget, Select):
        selected = widget.value
        return None if selected is Select.NULL else selected
    text = widget.value.strip() if isinstance(widget, Input) else ""
    if not text:
        return None
    if spec.kind == "integer":
        try:
            return int(text)
        except ValueError:
            raise FormError(f"field {spec.name}: {text!r} is not an integer") from None
    if spec.kind == "number":
        try:
            return float(text)
        except ValueError:
            raise FormError(f"field {spec.name}: {text!r} is not a number") from None
    if spec.kind == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise FormError(
                f"field {spec.name}: invalid JSON at column {error.colno}: {error.msg}; "
                f"expected a {spec.hint}"
            ) from None
    return widget.value if spec.kind == "string" else text
