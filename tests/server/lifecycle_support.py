"""Helpers of the lifecycle tests: workers, jobs and the results they leave."""

from __future__ import annotations

from jwp.proto.jobworkerp.data import common_pb2, job_pb2, job_result_pb2, runner_pb2, worker_pb2
from jwp.proto.jobworkerp.runner import command_args_pb2, command_result_pb2
from jwp.proto.jobworkerp.service import job_pb2 as job_service_pb2
from jwp.proto.jobworkerp.service import job_result_pb2 as result_service_pb2
from tests.conftest import Stubs
from tests.support.waiting import eventually


def command_args(command: str, *args: str) -> bytes:
    return command_args_pb2.CommandArgs(command=command, args=list(args)).SerializeToString()


async def create_worker(stubs: Stubs, name: str, **fields: object) -> int:
    values: dict[str, object] = {
        "name": name,
        "runner_id": runner_pb2.RunnerId(value=1),
        "store_success": True,
        "store_failure": True,
    }
    values.update(fields)
    response = await stubs.workers.Create(worker_pb2.WorkerData(**values))  # type: ignore[arg-type]
    return response.id.value


async def enqueue(stubs: Stubs, worker: str, args: bytes, **fields: object) -> int:
    request = job_service_pb2.JobRequest(worker_name=worker, args=args, **fields)  # type: ignore[arg-type]
    response = await stubs.jobs.Enqueue(request)
    return response.id.value


async def results_of(stubs: Stubs, job_id: int) -> list[job_result_pb2.JobResult]:
    """Stored results of a job, oldest first."""
    request = result_service_pb2.FindListByJobIdRequest(job_id=job_pb2.JobId(value=job_id))
    results = [result async for result in stubs.results.FindListByJobId(request)]
    return sorted(results, key=lambda result: (result.data.start_time, result.id.value))


async def wait_for_results(
    stubs: Stubs, job_id: int, count: int, timeout_s: float = 20
) -> list[job_result_pb2.JobResult]:
    async def enough() -> list[job_result_pb2.JobResult]:
        results = await results_of(stubs, job_id)
        return results if len(results) >= count else []

    return await eventually(enough, timeout_s=timeout_s, message=f"{count} results of {job_id}")


async def wait_final(stubs: Stubs, job_id: int, timeout_s: float = 20) -> job_result_pb2.JobResult:
    """Wait for a stored result that is not an intermediate ERROR_AND_RETRY."""

    async def final() -> job_result_pb2.JobResult | None:
        for result in await results_of(stubs, job_id):
            if result.data.status != common_pb2.ERROR_AND_RETRY:
                return result
        return None

    result = await eventually(final, timeout_s=timeout_s, message=f"final result of {job_id}")
    assert result is not None
    return result


def stdout_of(result: job_result_pb2.JobResult) -> str:
    return command_result_pb2.CommandResult.FromString(result.data.output.items).stdout
