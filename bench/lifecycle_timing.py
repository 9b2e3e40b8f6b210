"""Lateness of scheduled jobs and drift of periodic jobs on a Standalone server.

Run: `python -m bench.lifecycle_timing [--jobs 40] [--runs 15]`
(`python -m bench run --only timing` includes it). It starts a
server in this process (SQLite in a temporary folder, loopback port), then

- schedules `--jobs` COMMAND `true` jobs at random times 0.2-4 s ahead
  (those more than JOB_QUEUE_FETCH_INTERVAL ahead go through the RDB) and
  records how late each started after its `run_after_time`;
- runs a periodic worker of 1000 ms for `--runs` runs and records how far
  each start is from its slot, and whether slots drift (start of run n
  minus start of run 0 minus n intervals).

It prints a Markdown table of p50/p99/max in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile

import grpc

from jwp.config import Settings
from jwp.proto.jobworkerp.data import common_pb2, job_pb2, runner_pb2, worker_pb2
from jwp.proto.jobworkerp.runner import command_args_pb2
from jwp.proto.jobworkerp.service import job_pb2 as job_service_pb2
from jwp.proto.jobworkerp.service import job_pb2_grpc, job_result_pb2_grpc, worker_pb2_grpc
from jwp.proto.jobworkerp.service import job_result_pb2 as result_service_pb2
from jwp.server.app import JwpServer
from jwp.server.routing import now_ms

from .stats import percentile

FETCH_INTERVAL_MS = 500
PERIOD_MS = 1000


async def measure(jobs: int, runs: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            grpc_addr="127.0.0.1:0",
            sqlite_url=f"sqlite://{folder}/bench.sqlite3",
            job_queue_fetch_interval=FETCH_INTERVAL_MS,
            worker_default_concurrency=16,
            log_level="WARNING",
        )
        server = JwpServer(settings)
        await server.start()
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
        try:
            return await _run(channel, jobs, runs)
        finally:
            await channel.close()
            await server.stop(grace_s=5)


async def _run(channel: grpc.aio.Channel, jobs: int, runs: int) -> dict[str, list[float]]:
    workers = worker_pb2_grpc.WorkerServiceStub(channel)
    job_stub = job_pb2_grpc.JobServiceStub(channel)
    results = job_result_pb2_grpc.JobResultServiceStub(channel)
    command = runner_pb2.RunnerId(value=1)
    args = command_args_pb2.CommandArgs(command="true").SerializeToString()
    for name, periodic in (("scheduled", 0), ("periodic", PERIOD_MS)):
        await workers.Create(
            worker_pb2.WorkerData(
                name=name, runner_id=command, store_success=True, periodic_interval=periodic
            )
        )

    scheduled: dict[int, int] = {}
    for _ in range(jobs):
        due = now_ms() + random.randint(200, 4000)
        response = await job_stub.Enqueue(
            job_service_pb2.JobRequest(worker_name="scheduled", args=args, run_after_time=due)
        )
        scheduled[response.id.value] = due
    first_slot = now_ms() + 500
    periodic = await job_stub.Enqueue(
        job_service_pb2.JobRequest(worker_name="periodic", args=args, run_after_time=first_slot)
    )

    lateness = [float(start - due) for start, due in await _starts(results, scheduled)]
    periodic_starts = await _periodic_starts(results, periodic.id, runs)
    await job_stub.Delete(periodic.id)
    slot_error = [
        float(start - (first_slot + index * PERIOD_MS))
        for index, start in enumerate(periodic_starts)
    ]
    drift = [
        float(start - periodic_starts[0] - index * PERIOD_MS)
        for index, start in enumerate(periodic_starts)
    ]
    return {
        "scheduled job lateness": lateness,
        "periodic start after slot": slot_error,
        "periodic drift from run 0": drift,
    }


async def _starts(
    results: job_result_pb2_grpc.JobResultServiceStub, scheduled: dict[int, int]
) -> list[tuple[int, int]]:
    pairs: list[tuple[int, int]] = []
    for job_id, due in scheduled.items():
        while True:
            found = [
                result
                async for result in results.FindListByJobId(
                    result_service_pb2.FindListByJobIdRequest(job_id=job_pb2.JobId(value=job_id))
                )
            ]
            if found:
                pairs.append((found[0].data.start_time, due))
                break
            await asyncio.sleep(0.1)
    return pairs


async def _periodic_starts(
    results: job_result_pb2_grpc.JobResultServiceStub, job_id: job_pb2.JobId, runs: int
) -> list[int]:
    while True:
        found = [
            result
            async for result in results.FindListByJobId(
                result_service_pb2.FindListByJobIdRequest(job_id=job_id)
            )
            if result.data.status == common_pb2.SUCCESS
        ]
        if len(found) >= runs:
            return sorted(result.data.start_time for result in found)[:runs]
        await asyncio.sleep(0.2)


def render(figures: dict[str, list[float]]) -> str:
    lines = ["| measure | n | p50 ms | p99 ms | max ms |", "| --- | --- | --- | --- | --- |"]
    for name, values in figures.items():
        lines.append(
            f"| {name} | {len(values)} | {statistics.median(values):.1f} | "
            f"{percentile(values, 0.99):.1f} | {max(values):.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=40, help="scheduled jobs to measure")
    parser.add_argument("--runs", type=int, default=15, help="periodic runs to measure")
    options = parser.parse_args()
    figures = asyncio.run(measure(options.jobs, options.runs))
    print(render(figures))


if __name__ == "__main__":
    main()
