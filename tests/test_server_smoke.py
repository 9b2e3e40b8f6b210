"""End-to-end smoke test of the core path: worker, DIRECT job, result."""

from __future__ import annotations

from jwp.proto.jobworkerp.data import common_pb2, runner_pb2, worker_pb2
from jwp.proto.jobworkerp.runner import command_args_pb2, command_result_pb2
from jwp.proto.jobworkerp.service import job_pb2
from tests.conftest import Stubs


async def test_direct_echo_job_returns_stdout(stubs: Stubs) -> None:
    await stubs.workers.Create(
        worker_pb2.WorkerData(
            name="Echo",
            runner_id=runner_pb2.RunnerId(value=1),
            response_type=common_pb2.DIRECT,
            store_success=True,
        )
    )
    args = command_args_pb2.CommandArgs(command="echo", args=["Hello", "World"])

    response = await stubs.jobs.Enqueue(
        job_pb2.JobRequest(worker_name="Echo", args=args.SerializeToString())
    )

    assert response.result.data.status == common_pb2.SUCCESS
    output = command_result_pb2.CommandResult.FromString(response.result.data.output.items)
    assert output.stdout == "Hello World"
    assert output.exit_code == 0
