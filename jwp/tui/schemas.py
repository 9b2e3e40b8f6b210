"""Runner schemas for the dashboard: runners cached by id, bytes to JSON and back.

Compiling a runner's proto text runs protoc, so compiles and conversions
run in a thread; `jwp.schema` caches the compiled classes by text.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message

from jwp import schema
from jwp.proto.jobworkerp.data import runner_pb2

from .client import JwpClient


@dataclass(frozen=True)
class Decoded:
    """Bytes decoded for display: a message as a dict, or text when there is no schema."""

    value: dict[str, Any] | None = None
    """The decoded message with the declared field names; None when `text` is set."""
    text: str | None = None
    """The bytes as UTF-8 text, invalid sequences replaced with U+FFFD."""
    note: str = ""
    """Reason the bytes are shown as text, when a schema exists but did not apply."""


def text_of_bytes(data: bytes) -> tuple[str, int]:
    """Decode bytes as UTF-8 with replacement; return the text and the count of invalid bytes."""
    text = data.decode("utf-8", errors="replace")
    valid = data.decode("utf-8", errors="ignore")
    return text, len(data) - len(valid.encode("utf-8"))


def decode_bytes(proto_text: str, data: bytes, *, label: str) -> Decoded:
    """Decode with the first message of a proto text; fall back to text if that fails."""
    if not proto_text.strip():
        return Decoded(text=text_of_bytes(data)[0])
    try:
        value = schema.message_bytes_to_dict(proto_text, data, label=label)
    except schema.SchemaError as error:
        return Decoded(text=text_of_bytes(data)[0], note=str(error))
    if isinstance(value, str):
        return Decoded(text=value)
    return Decoded(value=value)


class RunnerSchemas:
    """Runners by id, fetched from the server once, and conversions with their schemas."""

    def __init__(self, client: JwpClient) -> None:
        self._client = client
        self._runners: dict[int, runner_pb2.Runner] = {}

    def remember(self, runners: Iterable[runner_pb2.Runner]) -> None:
        for runner in runners:
            self._runners[runner.id.value] = runner

    async def find(self, runner_id: int) -> runner_pb2.Runner | None:
        """Return a runner, asking the server only the first time."""
        runner = self._runners.get(runner_id)
        if runner is None:
            runner = await self._client.find_runner(runner_id)
            if runner is not None:
                self._runners[runner_id] = runner
        return runner

    async def message_class(self, proto_text: str) -> type[Message] | None:
        """Compile a proto text; None means the value is raw bytes.

        Raises:
            SchemaError: The text does not compile.
        """
        return await asyncio.to_thread(schema.compile_first_message, proto_text)

    async def decode(self, proto_text: str, data: bytes, *, label: str) -> Decoded:
        return await asyncio.to_thread(decode_bytes, proto_text, data, label=label)

    async def encode_json(self, proto_text: str, json_text: str, *, label: str) -> bytes:
        """Encode JSON text with a schema (or as UTF-8 when there is none).

        Raises:
            SchemaError: The JSON does not fit the schema; the message names the field.
        """
        return await asyncio.to_thread(
            schema.json_to_message_bytes, proto_text, json_text, label=label
        )
