"""Running one job end to end through a server's gRPC API."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc

from jwp.proto.jobworkerp.data import common_pb2, job_result_pb2, runner_pb2, worker_pb2
from jwp.proto.jobworkerp.service import job_pb2 as job_service_pb2
from jwp.proto.jobworkerp.service import job_result_pb2 as job_result_service_pb2
from tests.conftest import Stubs
from tests.support.servers import make_settings, running_server

_worker_numbers = itertools.count(1)

LISTEN_TIMEOUT_MS = 60_000


async def create_worker(
    stubs: Stubs, runner_id: int, settings: bytes, **fields: object
) -> worker_pb2.WorkerData:
    """Create a worker of the runner that stores and broadcasts its results; return its data."""
    values: dict[str, object] = {
        "name": f"worker-{next(_worker_numbers)}",
        "runner_id": runner_pb2.RunnerId(value=runner_id),
        "runner_settings": settings,
        "response_type": common_pb2.NO_RESULT,
        "store_success": True,
        "store_failure": True,
        "broadcast_results": True,
    }
    values.update(fields)
    data = worker_pb2.WorkerData(**values)  # type: ignore[arg-type]
    await stubs.workers.Create(data)
    return data


async def run_job(
    stubs: Stubs,
    runner_id: int,
    settings: bytes,
    args: bytes,
    *,
    timeout_ms: int | None = None,
    **worker_fields: object,
) -> job_result_pb2.JobResultData:
    """Create a worker, enqueue one job with the args, and return its final result.

    The result is read with Listen rather than a DIRECT enqueue, because a
    DIRECT wait ends with the job's timeout, before a timed-out result exists.
    """
    worker = await create_worker(stubs, runner_id, settings, **worker_fields)
    request = job_service_pb2.JobRequest(worker_name=worker.name, args=args)
    if timeout_ms is not None:
        request.timeout = timeout_ms
    response = await stubs.jobs.Enqueue(request)
    listened = await stubs.results.Listen(
        job_result_service_pb2.ListenRequest(
            job_id=response.id, worker_name=worker.name, timeout=LISTEN_TIMEOUT_MS
        )
    )
    return listened.data


def output_text(result: job_result_pb2.JobResultData) -> str:
    """Return a failed job's output (the error message) as text."""
    return result.output.items.decode()


@contextlib.asynccontextmanager
async def server_stubs(tmp_path: Path, **settings: Any) -> AsyncIterator[Stubs]:
    """Run a server with the settings overrides and yield stubs connected to it."""
    async with running_server(make_settings(tmp_path, **settings)) as server:
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
        try:
            yield Stubs.over(channel)
        finally:
            await channel.close()
