"""Fixtures shared by all suites: test servers and gRPC stubs on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest

from jwp.proto.jobworkerp.service import (
    job_pb2_grpc,
    job_result_pb2_grpc,
    runner_pb2_grpc,
    worker_pb2_grpc,
)
from jwp.server.app import JwpServer
from tests.support.backends import scalable_services
from tests.support.servers import (
    ThreadedServer,
    make_settings,
    running_server,
    threaded_server,
)


@dataclass
class Stubs:
    """gRPC stubs of every jobworkerp service over one channel."""

    channel: grpc.aio.Channel
    runners: runner_pb2_grpc.RunnerServiceStub
    workers: worker_pb2_grpc.WorkerServiceStub
    jobs: job_pb2_grpc.JobServiceStub
    statuses: job_pb2_grpc.JobStatusServiceStub
    results: job_result_pb2_grpc.JobResultServiceStub

    @classmethod
    def over(cls, channel: grpc.aio.Channel) -> Stubs:
        return cls(
            channel=channel,
            runners=runner_pb2_grpc.RunnerServiceStub(channel),
            workers=worker_pb2_grpc.WorkerServiceStub(channel),
            jobs=job_pb2_grpc.JobServiceStub(channel),
            statuses=job_pb2_grpc.JobStatusServiceStub(channel),
            results=job_result_pb2_grpc.JobResultServiceStub(channel),
        )


@pytest.fixture
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[dict[str, Any]]:
    """Settings overrides of the backend a test server runs on (Standalone unless parametrized).

    A module runs its tests over both backends with
    `pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True)`.
    """
    name = getattr(request, "param", "standalone")
    if name == "standalone":
        yield {}
        return
    async with scalable_services() as overrides:
        yield overrides


@pytest.fixture
async def server(tmp_path: Path, backend: dict[str, Any]) -> AsyncIterator[JwpServer]:
    """A server in the test's event loop, on the `backend` fixture's backend."""
    async with running_server(make_settings(tmp_path, **backend)) as running:
        yield running


@pytest.fixture
async def stubs(server: JwpServer) -> AsyncIterator[Stubs]:
    """Stubs connected to the `server` fixture."""
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        yield Stubs.over(channel)
    finally:
        await channel.close()


@pytest.fixture
def thread_server(tmp_path: Path) -> Iterator[ThreadedServer]:
    """A Standalone server in a background thread, for synchronous clients like the CLI."""
    with threaded_server(make_settings(tmp_path)) as running:
        yield running
