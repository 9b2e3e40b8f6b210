"""Helpers shared by the gRPC services: request metadata and list paging."""

from __future__ import annotations

from typing import Any

import grpc

from jwp.errors import InvalidArgumentError

# Headers with this prefix are jwp's own (auth); others are copied into the
# job's metadata and reach the runner.
RESERVED_HEADER_PREFIX = "jobworkerp-"

MAX_LIST_LIMIT = 100_000


def job_metadata(context: grpc.aio.ServicerContext[Any, Any]) -> dict[str, str]:
    """Return the caller's text headers that are not jwp's own, for a job's metadata."""
    metadata: dict[str, str] = {}
    for key, value in context.invocation_metadata() or ():
        if key.startswith(RESERVED_HEADER_PREFIX) or key.endswith("-bin") or key.startswith(":"):
            continue
        if isinstance(value, str):
            metadata[key] = value
    return metadata


def paging(
    request: Any, *, limit_field: str = "limit", offset_field: str = "offset"
) -> tuple[int | None, int]:
    """Return (limit, offset) of a list request, rejecting negative values."""
    limit = getattr(request, limit_field) if request.HasField(limit_field) else None
    offset = 0
    if offset_field and request.HasField(offset_field):
        offset = getattr(request, offset_field)
    if limit is not None and not 0 <= limit <= MAX_LIST_LIMIT:
        raise InvalidArgumentError(f"{limit_field} {limit} must be between 0 and {MAX_LIST_LIMIT}")
    if offset < 0:
        raise InvalidArgumentError(f"{offset_field} {offset} must not be negative")
    return limit, offset


def positive_id(value: int, field: str) -> int:
    """Return an id field's value, rejecting zero and negative ids."""
    if value <= 0:
        raise InvalidArgumentError(f"{field} {value} is not a valid id; ids are positive")
    return value
