"""Decoding of settings and args inside runners, with runner errors instead of request errors.

Worker creation and enqueue already check that the bytes decode (see
`codec`). A runner decodes them again in `load` and `run`, and there a
failure must become a job result (OTHER_ERROR) rather than a gRPC status.
"""

from __future__ import annotations

from typing import TypeVar

from google.protobuf.message import Message

from jwp.errors import InvalidArgumentError, RunnerArgumentError

from .codec import decode_strict

M = TypeVar("M", bound=Message)


def parse_settings(message_type: type[M], data: bytes, runner_name: str) -> M:
    """Decode a worker's settings bytes, raising RunnerArgumentError when they do not decode."""
    return _parse(message_type, data, f"runner_settings for runner {runner_name}")


def parse_args(message_type: type[M], data: bytes, runner_name: str) -> M:
    """Decode a job's args bytes, raising RunnerArgumentError when they do not decode."""
    return _parse(message_type, data, f"job args for runner {runner_name}")


def _parse(message_type: type[M], data: bytes, what: str) -> M:
    try:
        return decode_strict(message_type, data, what)
    except InvalidArgumentError as error:
        raise RunnerArgumentError(str(error)) from None


def require_field(value: str, field: str, runner_name: str, hint: str) -> str:
    """Return `value` stripped, raising RunnerArgumentError naming `field` when it is empty."""
    stripped = value.strip()
    if not stripped:
        raise RunnerArgumentError(f"{runner_name}: {field} is empty; {hint}")
    return stripped
