"""Runner schemas given as proto file text, compiled at run time.

A runner publishes the schemas of its settings, job args and results as the
full text of a .proto file (`RunnerData.runner_settings_proto`,
`job_args_proto` and `result_output_proto`). The schema is the first
top-level message of that file, and an empty text means the value is raw
bytes without a schema. The server uses these functions to check that
settings and args bytes decode, and the CLI uses them to turn JSON options
into protobuf bytes and to decode results.

JSON follows the proto3 JSON mapping: field names in lowerCamelCase or as
declared, enums by name or number, 64-bit integers as numbers or strings and
bytes as base64.
"""

from __future__ import annotations

import functools
import json
import re
import tempfile
import threading
from pathlib import Path
from typing import Any, cast

from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
from google.protobuf.message import DecodeError, Message
from grpc_tools import _protoc_compiler, protoc

__all__ = [
    "SchemaError",
    "compile_first_message",
    "decode_message",
    "json_to_message_bytes",
    "message_bytes_to_dict",
]

# Name of the file that a proto text is written to for protoc. It appears in
# compile error messages.
_SCHEMA_FILE_NAME = "schema.proto"
# Include directory of the well-known types (google/protobuf/*.proto) that
# ships with grpc_tools, so that a schema can import them.
_WELL_KNOWN_TYPES_ROOT = Path(protoc.__file__).resolve().parent / "_proto"
# Maximum number of compiled proto texts kept. The built-in runners use about
# 30, and each plugin or MCP server adds up to three.
_COMPILE_CACHE_SIZE = 256

# grpc_tools documents no thread safety for in-process protoc runs, so
# compiles run one at a time. They take about a millisecond and are cached.
_PROTOC_LOCK = threading.Lock()

_UNKNOWN_FIELD_PATTERN = re.compile(r'has no field named "(?P<name>[^"]*)" at "(?P<path>[^"]*)"')


class SchemaError(ValueError):
    """A proto text that does not compile, or a value that does not match its schema."""


@functools.lru_cache(maxsize=_COMPILE_CACHE_SIZE)
def compile_first_message(proto_text: str) -> type[Message] | None:
    """Compile a .proto file text and return the class of its first top-level message.

    Each text gets its own descriptor pool, so texts that declare the same
    message names do not clash. Compiled classes are cached by text, but a
    text that fails to compile is compiled again on the next call.

    Args:
        proto_text: Full text of a .proto file. It may import the well-known
            types (`google/protobuf/*.proto`) but no other file.

    Returns:
        The message class, or None when the text is empty or only whitespace,
        which means the value is raw bytes without a schema.

    Raises:
        SchemaError: The text does not compile or declares no message.
    """
    if not proto_text.strip():
        return None

    with tempfile.TemporaryDirectory(prefix="jwp-schema-") as temp_dir, _PROTOC_LOCK:
        work_dir = Path(temp_dir)
        (work_dir / _SCHEMA_FILE_NAME).write_text(proto_text, encoding="utf-8")
        _raise_compile_errors(work_dir)
        descriptor_set = _build_descriptor_set(work_dir)

    pool = descriptor_pool.DescriptorPool()
    for file_proto in descriptor_set.file:
        pool.AddSerializedFile(file_proto.SerializeToString())

    schema_file = next(file for file in descriptor_set.file if file.name == _SCHEMA_FILE_NAME)
    if not schema_file.message_type:
        raise SchemaError("invalid proto text: it declares no message")
    first_name = schema_file.message_type[0].name
    full_name = f"{schema_file.package}.{first_name}" if schema_file.package else first_name
    message_class: type[Message] = message_factory.GetMessageClass(
        pool.FindMessageTypeByName(full_name)
    )
    return message_class


def _raise_compile_errors(work_dir: Path) -> None:
    # protoc.main() prints its errors to the process's stderr and returns only
    # an exit status, so the errors are collected first with get_protos(),
    # which raises them as exceptions.
    # NOTE: _protoc_compiler is a private module of grpcio-tools, checked with
    # version 1.85. Recheck this call when upgrading grpcio-tools.
    include_paths = [str(work_dir).encode(), str(_WELL_KNOWN_TYPES_ROOT).encode()]
    try:
        _protoc_compiler.get_protos(_SCHEMA_FILE_NAME.encode(), include_paths)
    except _protoc_compiler.ProtocErrors as errors:
        details = "; ".join(_format_protoc_error(error) for error in errors.errors())
        raise SchemaError(f"invalid proto text: {details}") from None


def _format_protoc_error(error: Any) -> str:
    filename = error.filename.decode(errors="replace")
    message = error.message.decode(errors="replace").rstrip(".")
    if error.line < 0:
        return f"{filename}: {message}"
    # get_protos() reports 0-based positions, but editors and protoc's own
    # messages count from 1.
    return f"{filename}:{error.line + 1}:{error.column + 1}: {message}"


def _build_descriptor_set(work_dir: Path) -> descriptor_pb2.FileDescriptorSet:
    descriptor_set_path = work_dir / "schema.pb"
    status = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{work_dir}",
            f"-I{_WELL_KNOWN_TYPES_ROOT}",
            "--experimental_allow_proto3_optional",
            "--include_imports",
            f"--descriptor_set_out={descriptor_set_path}",
            str(work_dir / _SCHEMA_FILE_NAME),
        ]
    )
    if status != 0:
        raise SchemaError(f"invalid proto text: protoc failed with exit status {status}")
    descriptor_set = descriptor_pb2.FileDescriptorSet()
    descriptor_set.ParseFromString(descriptor_set_path.read_bytes())
    return descriptor_set


def json_to_message_bytes(
    proto_text: str,
    json_text: str,
    *,
    ignore_unknown_fields: bool = False,
    label: str = "value",
) -> bytes:
    """Convert JSON text into the encoded first message of a proto text.

    Args:
        proto_text: Full text of the .proto file that contains the schema.
        json_text: A JSON object. Empty or whitespace text means the default
            (empty) message.
        ignore_unknown_fields: Skip JSON keys that name no field instead of
            rejecting them.
        label: What the value is, for error messages (e.g. "args").

    Returns:
        The encoded message, or the UTF-8 bytes of json_text unchanged when
        proto_text is empty.

    Raises:
        SchemaError: The proto text does not compile, or the JSON is not valid
            for the message. The one-line message names the message type and
            the offending field or the position of the JSON syntax error.
    """
    message_class = compile_first_message(proto_text)
    if message_class is None:
        return json_text.encode("utf-8")

    message = message_class()
    if json_text.strip():
        _parse_json_into(message, json_text, ignore_unknown_fields, label)
    encoded: bytes = message.SerializeToString(deterministic=True)
    return encoded


def _parse_json_into(
    message: Message, json_text: str, ignore_unknown_fields: bool, label: str
) -> None:
    prefix = f"invalid {label} for {message.DESCRIPTOR.full_name}"
    value = _load_json_object(json_text, prefix)
    try:
        json_format.ParseDict(
            value,
            message,
            ignore_unknown_fields=ignore_unknown_fields,
            descriptor_pool=_pool_of(message),
        )
    # ParseDict raises ParseError for most invalid values. json_format.Parse()
    # also turns any other exception from ParseDict into a ParseError, so this
    # does the same for the likely ones.
    except (json_format.ParseError, TypeError, ValueError) as error:
        raise SchemaError(f"{prefix}: {_describe_parse_error(error)}") from error


def _pool_of(message: Message) -> descriptor_pool.DescriptorPool:
    """Return the private pool of a schema message, which resolves the type URLs of Any fields."""
    # types-protobuf gives the C (upb) pool a type of its own, but both
    # implement the same interface.
    return cast(descriptor_pool.DescriptorPool, message.DESCRIPTOR.file.pool)


def _load_json_object(json_text: str, error_prefix: str) -> dict[str, Any]:
    try:
        value = json.loads(json_text, object_pairs_hook=_reject_duplicate_keys)
    except json.JSONDecodeError as error:
        raise SchemaError(
            f"{error_prefix}: JSON syntax error at line {error.lineno} column {error.colno}: "
            f"{error.msg}"
        ) from error
    except _DuplicateKeyError as error:
        raise SchemaError(f'{error_prefix}: duplicate key "{error.key}"') from error

    if not isinstance(value, dict):
        raise SchemaError(f"{error_prefix}: expected a JSON object, got {_json_kind(value)}")
    return value


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(key)
        result[key] = value
    return result


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array"


def _describe_parse_error(error: Exception) -> str:
    """Shorten a json_format error to one line that names the offending field."""
    text = str(error)
    # The unknown-field error carries the full path of the enclosing message,
    # e.g. "LLMChatArgs.messages[0].content". Its first part is the message
    # type, which the caller's error message already names.
    unknown = _UNKNOWN_FIELD_PATTERN.search(text)
    if unknown is not None:
        enclosing_path = unknown["path"].partition(".")[2]
        field_path = f"{enclosing_path}.{unknown['name']}" if enclosing_path else unknown["name"]
        return f'unknown field "{field_path}"'
    return text.splitlines()[0].rstrip(". ") if text else type(error).__name__


def decode_message(proto_text: str, data: bytes, *, label: str = "value") -> Message | None:
    """Decode bytes with the first message of a proto text.

    Unknown fields in the bytes are kept, as protobuf parsers do.

    Returns:
        The decoded message, or None when proto_text is empty, which means
        the bytes are raw and any content is valid.

    Raises:
        SchemaError: The proto text does not compile, or the bytes are not an
            encoded message of that type.
    """
    message_class = compile_first_message(proto_text)
    if message_class is None:
        return None

    message = message_class()
    try:
        message.ParseFromString(data)
    except DecodeError as error:
        raise SchemaError(
            f"invalid {label} for {message.DESCRIPTOR.full_name}: "
            f"cannot decode {len(data)} bytes ({error})"
        ) from error
    return message


def message_bytes_to_dict(
    proto_text: str, data: bytes, *, label: str = "value", include_defaults: bool = False
) -> dict[str, Any] | str:
    """Decode bytes into a JSON-compatible dict, with the declared field names.

    Fields that are unset or hold their default value are left out, unless
    `include_defaults` is set: then every field without presence tracking
    (a plain proto3 scalar or enum, a list, a map) is included, because
    proto3 cannot tell its default from a value that was sent, e.g. a
    WorkflowResult status of Completed (0). Unset `optional` fields and
    messages are still left out.

    Returns:
        The dict, or the bytes as text (invalid UTF-8 replaced with U+FFFD)
        when proto_text is empty.

    Raises:
        SchemaError: The proto text does not compile, or the bytes are not an
            encoded message of that type.
    """
    message = decode_message(proto_text, data, label=label)
    if message is None:
        return data.decode("utf-8", errors="replace")
    result: dict[str, Any] = json_format.MessageToDict(
        message,
        preserving_proto_field_name=True,
        always_print_fields_with_no_presence=include_defaults,
        descriptor_pool=_pool_of(message),
    )
    return result
