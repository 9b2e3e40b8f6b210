"""The README's workflow example, end to end through a real `jwp serve` process.

As in the README, the document is saved as `ls.yaml` in the server's
working directory and a DIRECT INLINE_WORKFLOW worker gets
`{"workflow_url": "./ls.yaml", "input": ...}`. The server serves the
`workflow` channel the example's run tasks use.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from jwp.proto.jobworkerp.data import common_pb2, runner_pb2, worker_pb2
from jwp.proto.jobworkerp.runner.workflow_args_pb2 import InlineWorkflowArgs
from jwp.proto.jobworkerp.runner.workflow_result_pb2 import WorkflowResult
from jwp.proto.jobworkerp.service import job_pb2 as job_service_pb2
from jwp.proto.jobworkerp.service import worker_pb2 as worker_service_pb2
from tests.conftest import Stubs
from tests.support.servers import ServerProcess

from .documents import README_LS_WORKFLOW, readme_workflow_for_tree
from .test_workflow_runners import make_tree


def clean_env() -> dict[str, str]:
    prefixes = ("STORAGE_", "SQLITE_", "JOB_QUEUE_", "WORKER_", "GRPC_", "LOG_", "JWP_")
    return {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[Stubs, Path]]:
    workdir = tmp_path / "server"
    workdir.mkdir()
    env = {
        **clean_env(),
        "GRPC_ADDR": "127.0.0.1:0",
        "WORKER_CHANNELS": "workflow",
        "WORKER_CHANNEL_CONCURRENCIES": "2",
    }
    process = ServerProcess(workdir, env)
    await asyncio.to_thread(process.start)
    channel = grpc.aio.insecure_channel(process.address)
    try:
        await asyncio.wait_for(channel.channel_ready(), 10)
        yield Stubs.over(channel), workdir
    finally:
        await channel.close()
        await asyncio.to_thread(process.stop)


async def run_ls_yaml(stubs: Stubs, workflow_input: str) -> WorkflowResult:
    created = await stubs.workers.Create(
        worker_pb2.WorkerData(
            name="OneTimeFlow",
            description="",
            runner_id=runner_pb2.RunnerId(value=65535),
            response_type=common_pb2.DIRECT,
        )
    )
    args = InlineWorkflowArgs(workflow_url="./ls.yaml", input=workflow_input)
    response = await stubs.jobs.Enqueue(
        job_service_pb2.JobRequest(worker_id=created.id, args=args.SerializeToString()),
        timeout=60,
    )
    assert response.result.data.status == common_pb2.SUCCESS, response.result.data.output.items
    result = WorkflowResult()
    result.ParseFromString(response.result.data.output.items)
    assert result.status == WorkflowResult.Completed, result.error_message
    workers = stubs.workers.FindList(worker_service_pb2.FindWorkerListRequest())
    assert [worker.data.name async for worker in workers] == ["OneTimeFlow"]
    return result


async def test_readme_example_as_written_lists_root(served: tuple[Stubs, Path]) -> None:
    stubs, workdir = served
    (workdir / "ls.yaml").write_text(README_LS_WORKFLOW)

    result = await run_ls_yaml(stubs, "/")

    output = json.loads(result.output)
    # `ls` leaves out hidden entries.
    root_entries = sorted(name for name in os.listdir("/") if not name.startswith("."))
    assert len(output) == len(root_entries)
    listed = [entry for entry in output if "stdout" in entry or "exitCode" in entry]
    d_entries = [name for name in root_entries if name.startswith("d")]
    assert len(listed) == len(d_entries)
    assert "dev" in d_entries
    dev_listing = listed[d_entries.index("dev")]
    assert "null" in dev_listing["stdout"].splitlines()


async def test_readme_example_lists_temporary_tree(
    served: tuple[Stubs, Path], tmp_path: Path
) -> None:
    stubs, workdir = served
    (workdir / "ls.yaml").write_text(readme_workflow_for_tree())
    tree = tmp_path / "tree"
    tree.mkdir()
    make_tree(tree)

    result = await run_ls_yaml(stubs, str(tree))

    output = json.loads(result.output)
    assert [entry.get("stdout") for entry in output] == ["a.csv\nb.csv", "guide.md", None]
    assert output[2] == {"files": ["data", "docs", "notes.txt"]}
    assert result.position == "/do/1/EachFileIteration"
