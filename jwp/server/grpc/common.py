"""Helpers shared by the gRPC services: request metadata and list paging."""

from __future__ import annotations

from typing import Any

import grpc

from jwp.errors import InvalidArgumentError
from jwp.proto.jobworkerp.data import job_pb2, job_result_pb2

# Headers with this prefix are jwp's own (auth); others are copied into the
# job's metadata and reach the runner.
RESERVED_HEADER_PREFIX = "jobworkerp-"

MAX_LIST_LIMIT = 100_000

RESULT_HEADER = "x-job-result-bin"
"""Metadata key of the serialized final JobResult of EnqueueForStream and ListenStream.

The result exists only once the stream has ended, so jwp sends it in the
trailing metadata; jobworkerp clients read the key from the initial and the
trailing metadata alike.
"""

JOB_ID_HEADER = "x-job-id-bin"
"""Initial metadata key of the serialized JobId of an enqueued job, sent before any wait."""


async def send_stream_headers(context: grpc.aio.ServicerContext[Any, Any], job_id: int) -> None:
    """Send the initial metadata of an enqueue call: the job id, before any wait or item."""
    await context.send_initial_metadata(
        ((JOB_ID_HEADER, job_pb2.JobId(value=job_id).SerializeToString()),)
    )


def set_result_trailer(
    context: grpc.aio.ServicerContext[Any, Any], result: job_result_pb2.JobResult | None
) -> None:
    """Put a stream's final result into its trailing metadata."""
    if result is not None:
        context.set_trailing_metadata(((RESULT_HEADER, result.SerializeToString()),))


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
