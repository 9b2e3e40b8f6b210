"""Request bytes built at the wire level, and hypothesis strategies for extreme requests.

Python protobuf rejects invalid UTF-8 in a string field, so the strategies
here serialize a valid message first and then append fields written by
hand. Protobuf keeps the last value of a singular field, so an appended
string field replaces the valid one for the server's parser.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from hypothesis import strategies as st

from jwp.proto.jobworkerp.data import worker_pb2
from jwp.proto.jobworkerp.runner import command_args_pb2

HUGE_TEXT = "x" * 1_100_000
"""A string of 1.1 MB: over every name, channel and key limit."""

HUGE_BYTES = b"\xab" * 1_100_000

INVALID_UTF8 = b"\xff\xfe\xc3\x28"

# Bytes of other messages, sent where settings or args of a runner are expected.
FOREIGN_MESSAGES = (
    worker_pb2.WorkerData(name="w", periodic_interval=5).SerializeToString(),
    command_args_pb2.CommandArgs(command="true", args=["a"]).SerializeToString(),
    b"\x08\x96\x01",
    b"\xff" * 12,
)

_INT32 = (0, 1, -1, 5, 2**31 - 1, -(2**31))
_INT64 = (0, 1, -1, 5, 2**63 - 1, -(2**63))
_UINT32 = (0, 1, 1000, 2**32 - 1)
_UINT64 = (0, 1, 2**63 - 1, 2**63, 2**64 - 1)
_TEXT = ("", " ", "a", "\x00\x01", "名前", "__default_job_channel__", HUGE_TEXT)


def encode_varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def length_delimited(field_number: int, payload: bytes) -> bytes:
    """Encode one length-delimited field (string, bytes or message)."""
    return encode_varint(field_number << 3 | 2) + encode_varint(len(payload)) + payload


def _string_paths(descriptor: Descriptor, depth: int = 0) -> list[list[FieldDescriptor]]:
    """Return the paths to every string field, through singular message fields."""
    paths: list[list[FieldDescriptor]] = []
    for field in descriptor.fields:
        if field.type == FieldDescriptor.TYPE_STRING:
            paths.append([field])
        elif field.type == FieldDescriptor.TYPE_MESSAGE and depth < 2:
            if field.message_type.GetOptions().map_entry:
                continue
            paths.extend([field, *rest] for rest in _string_paths(field.message_type, depth + 1))
    return paths


def invalid_utf8_field(path: list[FieldDescriptor]) -> bytes:
    """Encode a (nested) string field at `path` whose value is not valid UTF-8."""
    payload = length_delimited(path[-1].number, INVALID_UTF8)
    for field in reversed(path[:-1]):
        payload = length_delimited(field.number, payload)
    return payload


def _scalar(field: FieldDescriptor) -> st.SearchStrategy[Any]:
    kind = field.type
    if kind in (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_SINT32):
        return st.sampled_from(_INT32) | st.integers(-(2**31), 2**31 - 1)
    if kind in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_SINT64):
        return st.sampled_from(_INT64) | st.integers(-(2**63), 2**63 - 1)
    if kind == FieldDescriptor.TYPE_UINT32:
        return st.sampled_from(_UINT32)
    if kind == FieldDescriptor.TYPE_UINT64:
        return st.sampled_from(_UINT64)
    if kind in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE):
        return st.sampled_from((float("nan"), float("inf"), -float("inf"), 0.0, 2.0)) | st.floats(
            width=32
        )
    if kind == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if kind == FieldDescriptor.TYPE_ENUM:
        known = [value.number for value in field.enum_type.values]
        return st.sampled_from(known) | st.integers(-(2**31), 2**31 - 1)
    if kind == FieldDescriptor.TYPE_STRING:
        return st.sampled_from(_TEXT) | st.text(max_size=20)
    if kind == FieldDescriptor.TYPE_BYTES:
        return st.sampled_from((b"", HUGE_BYTES, *FOREIGN_MESSAGES)) | st.binary(max_size=40)
    raise AssertionError(f"no strategy for field type {kind}")


@st.composite
def messages(draw: st.DrawFn, message_type: type[Message], depth: int = 0) -> Message:
    """Draw a message of `message_type` with extreme values in a random subset of fields."""
    message = message_type()
    descriptor = message_type.DESCRIPTOR
    for field in descriptor.fields:
        if not draw(st.booleans()):
            continue
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if field.message_type.GetOptions().map_entry or depth >= 3:
                continue
            child_type = (
                type(getattr(message_type(), field.name)) if not field.is_repeated else None
            )
            if field.is_repeated:
                item_type = type(getattr(message_type(), field.name).add())
                for _ in range(draw(st.integers(0, 2))):
                    getattr(message, field.name).add().CopyFrom(
                        draw(messages(item_type, depth + 1))
                    )
            else:
                assert child_type is not None
                getattr(message, field.name).CopyFrom(draw(messages(child_type, depth + 1)))
        elif field.is_repeated:
            values = draw(st.lists(_scalar(field), max_size=3))
            getattr(message, field.name).extend(values)
        else:
            setattr(message, field.name, draw(_scalar(field)))
    return message


def _scalar_paths(descriptor: Descriptor, depth: int = 0) -> list[list[FieldDescriptor]]:
    """Return the paths to every non-message field, through singular message fields."""
    paths: list[list[FieldDescriptor]] = []
    for field in descriptor.fields:
        if field.type != FieldDescriptor.TYPE_MESSAGE:
            paths.append([field])
        elif not field.is_repeated and depth < 2:
            paths.extend([field, *rest] for rest in _scalar_paths(field.message_type, depth + 1))
    return paths


@st.composite
def mutated(draw: st.DrawFn, base: Message) -> Message:
    """Draw a copy of a valid `base` message with one field set to an extreme value."""
    message = type(base)()
    message.CopyFrom(base)
    path = draw(st.sampled_from(_scalar_paths(base.DESCRIPTOR)))
    target: Any = message
    for field in path[:-1]:
        target = getattr(target, field.name)
    field = path[-1]
    if field.is_repeated:
        getattr(target, field.name).extend(draw(st.lists(_scalar(field), min_size=1, max_size=3)))
    else:
        setattr(target, field.name, draw(_scalar(field)))
    return message


@st.composite
def request_bytes(
    draw: st.DrawFn, message_type: type[Message], base: Message | None = None
) -> bytes:
    """Draw request bytes: random bytes, an extreme message, or one with invalid UTF-8.

    With a valid `base`, most draws change one field of it, so the checks
    behind the first field's validation are reached too.
    """
    kinds = ["random", "message", "invalid-utf8"]
    if base is not None:
        kinds += ["mutated", "mutated", "mutated"]
    kind = draw(st.sampled_from(kinds))
    if kind == "random":
        return draw(st.binary(max_size=200))
    if kind == "mutated":
        assert base is not None
        return draw(mutated(base)).SerializeToString()
    source = base if base is not None and draw(st.booleans()) else None
    data = (source or draw(messages(message_type))).SerializeToString()
    paths = _string_paths(message_type.DESCRIPTOR)
    if kind == "invalid-utf8" and paths:
        data += invalid_utf8_field(draw(st.sampled_from(paths)))
    return data
