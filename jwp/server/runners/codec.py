"""Strict decoding of settings, args and result bytes against a runner's messages.

Protobuf parsing is lenient: bytes of another message often parse, with
their fields kept as unknown fields. A request whose bytes carry fields the
schema does not define was built against another schema, so it is rejected
here with a message that says which part is wrong.
"""

from __future__ import annotations

import asyncio
from typing import TypeVar

from google.protobuf.message import DecodeError, Message
from google.protobuf.unknown_fields import UnknownFieldSet

from jwp import schema
from jwp.errors import InvalidArgumentError

from .base import RunnerSpec

M = TypeVar("M", bound=Message)


def decode_strict(message_type: type[M], data: bytes, what: str) -> M:
    """Parse `data` as `message_type`, rejecting bytes that fail or carry unknown fields."""
    message = message_type()
    try:
        message.ParseFromString(data)
    except DecodeError as error:
        raise InvalidArgumentError(
            f"{what} are not a valid {message_type.DESCRIPTOR.full_name} message ({error}); "
            "encode them with the runner's schema from `jwp runner find`"
        ) from None
    unknown = _first_unknown_field(message)
    if unknown is not None:
        raise InvalidArgumentError(
            f"{what} carry field number {unknown}, which {message_type.DESCRIPTOR.full_name} "
            "does not define; encode them with the runner's schema from `jwp runner find`"
        )
    return message


def _first_unknown_field(message: Message) -> int | None:
    unknown = UnknownFieldSet(message)
    if len(unknown):
        return int(unknown[0].field_number)
    for descriptor, value in message.ListFields():
        if descriptor.message_type is None:
            continue
        if descriptor.message_type.GetOptions().map_entry:
            value_field = descriptor.message_type.fields_by_name["value"]
            items = list(value.values()) if value_field.message_type is not None else []
        elif descriptor.is_repeated:
            items = list(value)
        else:
            items = [value]
        for item in items:
            found = _first_unknown_field(item)
            if found is not None:
                return found
    return None


async def message_type_of(proto_text: str | None) -> type[Message] | None:
    """Compile a runner proto text (in a thread, cached) and return its first message."""
    if not proto_text or not proto_text.strip():
        return None
    return await asyncio.to_thread(schema.compile_first_message, proto_text)


async def check_settings(spec: RunnerSpec, settings: bytes) -> None:
    """Raise InvalidArgumentError unless `settings` decode as the runner's settings message."""
    message_type = await message_type_of(spec.settings_proto)
    if message_type is not None:
        decode_strict(message_type, settings, f"runner_settings for runner {spec.name}")
    if spec.settings_check is not None:
        await spec.settings_check(settings)


async def check_args(spec: RunnerSpec, args: bytes) -> None:
    """Raise InvalidArgumentError unless `args` decode as the runner's job args message."""
    message_type = await message_type_of(spec.args_proto)
    if message_type is not None:
        decode_strict(message_type, args, f"job args for runner {spec.name}")
