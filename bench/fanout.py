"""Listen fan-out: how long after a job ends each of N Listen callers gets its result."""

from __future__ import annotations

import asyncio
import time

from jwp.proto.jobworkerp.data import common_pb2, job_pb2, worker_pb2
from jwp.proto.jobworkerp.service import job_pb2 as job_service_pb2
from jwp.proto.jobworkerp.service import job_result_pb2 as result_service_pb2

from .jwp_client import NOOP_RUNNER, JwpClient
from .stats import Latencies

START_DELAY_MS = 1500
"""Delay of each job's start, so that every listener is waiting before it ends."""


async def listen_latency(client: JwpClient, listeners: int, rounds: int) -> Latencies:
    """Receipt time minus the job's end_time, over `listeners` callers and `rounds` jobs."""
    name = f"bench-listen-{listeners}"
    await client.create_worker(
        worker_pb2.WorkerData(
            name=name,
            runner_id=await client.runner_id(NOOP_RUNNER),
            response_type=common_pb2.NO_RESULT,
            broadcast_results=True,
            store_failure=True,
        )
    )
    samples: list[float] = []
    for _ in range(rounds):
        due = int(time.time() * 1000) + START_DELAY_MS
        response = await client.jobs.Enqueue(
            job_service_pb2.JobRequest(worker_name=name, args=b"", run_after_time=due)
        )
        request = result_service_pb2.ListenRequest(
            job_id=job_pb2.JobId(value=response.id.value), worker_name=name, timeout=30_000
        )

        async def listen(listen_request: result_service_pb2.ListenRequest = request) -> float:
            result = await client.results.Listen(listen_request)
            return time.time() * 1000 - result.data.end_time

        samples.extend(await asyncio.gather(*(listen() for _ in range(listeners))))
    return Latencies.of(samples)
