"""Fixtures for workflow tests that run real jobs: a server with a `workflow` channel."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from jwp.proto.jobworkerp.data import common_pb2, job_result_pb2, runner_pb2, worker_pb2
from jwp.proto.jobworkerp.runner.workflow_args_pb2 import InlineWorkflowArgs
from jwp.proto.jobworkerp.runner.workflow_result_pb2 import WorkflowResult
from jwp.proto.jobworkerp.service import job_pb2 as job_service_pb2
from jwp.server.app import JwpServer
from jwp.server.runners import process
from tests.conftest import Stubs
from tests.support.servers import make_settings, running_server

INLINE_WORKFLOW_ID = 65535
REUSABLE_WORKFLOW_ID = -1
WORKFLOW_CHANNEL = "workflow"


@pytest.fixture
async def workflow_server(tmp_path: Path) -> AsyncIterator[JwpServer]:
    """A server that also serves the `workflow` channel the README example uses."""
    settings = make_settings(
        tmp_path,
        worker_channels=[WORKFLOW_CHANNEL],
        worker_channel_concurrencies=[4],
        worker_default_concurrency=6,
    )
    async with running_server(settings) as running:
        yield running
    await process.wait_for_cleanups()


@pytest.fixture
async def wstubs(workflow_server: JwpServer) -> AsyncIterator[Stubs]:
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{workflow_server.port}")
    try:
        yield Stubs.over(channel)
    finally:
        await channel.close()


class InlineRunner:
    """Runs INLINE_WORKFLOW jobs through JobService.Enqueue on a DIRECT worker."""

    def __init__(self, stubs: Stubs) -> None:
        self.stubs = stubs
        self.worker_id: int | None = None

    async def worker(self) -> int:
        if self.worker_id is None:
            response = await self.stubs.workers.Create(
                worker_pb2.WorkerData(
                    name="OneTimeFlow",
                    runner_id=runner_pb2.RunnerId(value=INLINE_WORKFLOW_ID),
                    response_type=common_pb2.DIRECT,
                    store_failure=True,
                )
            )
            self.worker_id = response.id.value
        return self.worker_id

    async def run(
        self,
        *,
        data: str | None = None,
        url: str | None = None,
        workflow_input: Any = None,
        raw_input: str | None = None,
        context: str | None = None,
    ) -> job_result_pb2.JobResult:
        args = InlineWorkflowArgs(
            input=raw_input if raw_input is not None else json.dumps(workflow_input)
        )
        if data is not None:
            args.workflow_data = data
        if url is not None:
            args.workflow_url = url
        if context is not None:
            args.workflow_context = context
        response = await self.stubs.jobs.Enqueue(
            job_service_pb2.JobRequest(
                worker_id=worker_pb2.WorkerId(value=await self.worker()),
                args=args.SerializeToString(),
            )
        )
        return response.result


@pytest.fixture
def inline(wstubs: Stubs) -> InlineRunner:
    return InlineRunner(wstubs)


def workflow_result(result: job_result_pb2.JobResult) -> WorkflowResult:
    """Decode the WorkflowResult of a SUCCESS job result."""
    assert result.data.status == common_pb2.SUCCESS, result.data.output.items.decode()
    decoded = WorkflowResult()
    decoded.ParseFromString(result.data.output.items)
    return decoded


def completed_output(result: job_result_pb2.JobResult) -> Any:
    decoded = workflow_result(result)
    assert decoded.status == WorkflowResult.Completed, decoded.error_message
    return json.loads(decoded.output)
