"""Benchmark workloads run against a jwp deployment through its gRPC API."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import grpc

from jwp.proto.jobworkerp.data import common_pb2, runner_pb2, worker_pb2
from jwp.proto.jobworkerp.runner import command_args_pb2
from jwp.proto.jobworkerp.service import job_pb2 as job_service_pb2
from jwp.proto.jobworkerp.service import (
    job_pb2_grpc,
    job_result_pb2_grpc,
    runner_pb2_grpc,
    worker_pb2_grpc,
)
from jwp.proto.jobworkerp.service import job_result_pb2 as result_service_pb2
from jwp.proto.jobworkerp.service import runner_pb2 as runner_service_pb2
from jwp.proto.jwp.service import job_batch_pb2, job_batch_pb2_grpc

from .deployments import COMMAND_CHANNEL
from .stats import Latencies

NOOP_RUNNER = "BenchNoop"
WAIT_TIMEOUT_S = 600
"""Maximum time a workload waits for its results before it reports a failure, in s."""


@dataclass(frozen=True)
class Throughput:
    jobs: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.jobs / self.seconds


class JwpClient:
    """Stubs of one deployment and the workers the workloads create on it."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.channel = channel
        self.batches = job_batch_pb2_grpc.JobBatchServiceStub(channel)
        self.jobs = job_pb2_grpc.JobServiceStub(channel)
        self.results = job_result_pb2_grpc.JobResultServiceStub(channel)
        self.workers = worker_pb2_grpc.WorkerServiceStub(channel)
        self.runners = runner_pb2_grpc.RunnerServiceStub(channel)

    async def runner_id(self, name: str) -> runner_pb2.RunnerId:
        found = await self.runners.FindByName(runner_service_pb2.RunnerNameRequest(name=name))
        if not found.HasField("data"):
            raise RuntimeError(f"runner {name!r} is not loaded; check PLUGINS_RUNNER_DIR")
        return found.data.id

    async def create_worker(self, data: worker_pb2.WorkerData) -> str:
        await self.workers.Create(data)
        return data.name


@contextlib.asynccontextmanager
async def connect(address: str) -> AsyncIterator[JwpClient]:
    async with grpc.aio.insecure_channel(address) as channel:
        await asyncio.wait_for(channel.channel_ready(), 30)
        yield JwpClient(channel)


async def run_in_window(count: int, in_flight: int, call: Callable[[int], Awaitable[None]]) -> None:
    """Await `call(0)` … `call(count - 1)` with at most `in_flight` of them running at once."""
    next_index = 0

    async def lane() -> None:
        nonlocal next_index
        while next_index < count:
            index = next_index
            next_index += 1
            await call(index)

    await asyncio.gather(*(lane() for _ in range(min(in_flight, count))))


async def enqueue_and_count(
    client: JwpClient,
    worker_name: str,
    args: bytes,
    jobs: int,
    in_flight: int,
    batch_size: int = 0,
) -> Throughput:
    """Enqueue `jobs` jobs and wait until ListenByWorker has delivered all their results.

    One warm-up job goes first, so the timing starts with the result
    subscription open and the worker's runner loaded. With `batch_size`,
    the jobs go in EnqueueBatch calls of that many, `in_flight` calls at
    a time; otherwise in Enqueue calls.
    """
    stream = client.results.ListenByWorker(
        result_service_pb2.ListenByWorkerRequest(worker_name=worker_name)
    )
    received = 0
    target = 1
    reached = asyncio.Event()

    async def count_results() -> None:
        nonlocal received
        async for result in stream:
            if result.data.status != common_pb2.SUCCESS:
                raise RuntimeError(f"a job failed: {result.data.output}")
            received += 1
            if received >= target:
                reached.set()

    counter = asyncio.create_task(count_results())
    request = job_service_pb2.JobRequest(worker_name=worker_name, args=args)
    try:
        await _warm_up(client, request, reached, counter)
        received, target = 0, jobs
        reached.clear()
        started = time.perf_counter()

        if batch_size:
            await _enqueue_batches(client, request, jobs, in_flight, batch_size)
        else:

            async def enqueue(_: int) -> None:
                await client.jobs.Enqueue(request)

            await run_in_window(jobs, in_flight, enqueue)
        await _wait_for(reached, counter)
        return Throughput(jobs, time.perf_counter() - started)
    finally:
        stream.cancel()
        with contextlib.suppress(asyncio.CancelledError, grpc.aio.AioRpcError):
            await counter


async def _enqueue_batches(
    client: JwpClient,
    request: job_service_pb2.JobRequest,
    jobs: int,
    in_flight: int,
    batch_size: int,
) -> None:
    sizes = [min(batch_size, jobs - start) for start in range(0, jobs, batch_size)]

    async def enqueue(index: int) -> None:
        batch = job_batch_pb2.EnqueueBatchRequest(requests=[request] * sizes[index])
        response = await client.batches.EnqueueBatch(batch)
        rejected = [item.error.message for item in response.items if item.HasField("error")]
        if rejected:
            raise RuntimeError(f"{len(rejected)} jobs of a batch were rejected: {rejected[0]}")

    await run_in_window(len(sizes), in_flight, enqueue)


async def _warm_up(
    client: JwpClient,
    request: job_service_pb2.JobRequest,
    reached: asyncio.Event,
    counter: asyncio.Task[None],
) -> None:
    """Enqueue a job each second until the result stream delivers one."""
    for _ in range(30):
        await client.jobs.Enqueue(request)
        with contextlib.suppress(TimeoutError):
            await _wait_for(reached, counter, timeout_s=1)
            return
    raise RuntimeError("no result of the warm-up jobs arrived in 30 s")


async def _wait_for(
    reached: asyncio.Event, counter: asyncio.Task[None], timeout_s: float = WAIT_TIMEOUT_S
) -> None:
    waiter = asyncio.ensure_future(reached.wait())
    done, _ = await asyncio.wait(
        {waiter, counter}, timeout=timeout_s, return_when="FIRST_COMPLETED"
    )
    if counter in done:
        waiter.cancel()
        counter.result()
        raise RuntimeError("the result stream ended early")
    if waiter not in done:
        waiter.cancel()
        raise TimeoutError


async def noop_throughput(
    client: JwpClient, jobs: int, in_flight: int, *, store_results: bool, batch_size: int = 0
) -> Throughput:
    """No-op jobs through a NO_RESULT worker that broadcasts its results."""
    name = f"bench-noop-{'stored' if store_results else 'broadcast'}-{batch_size}"
    await client.create_worker(
        worker_pb2.WorkerData(
            name=name,
            runner_id=await client.runner_id(NOOP_RUNNER),
            response_type=common_pb2.NO_RESULT,
            broadcast_results=True,
            store_success=store_results,
            store_failure=True,
        )
    )
    return await enqueue_and_count(client, name, b"", jobs, in_flight, batch_size)


async def command_throughput(client: JwpClient, jobs: int, in_flight: int) -> Throughput:
    """COMMAND jobs of `true` on a channel of concurrency 4."""
    await client.create_worker(
        worker_pb2.WorkerData(
            name="bench-command",
            runner_id=runner_pb2.RunnerId(value=common_pb2.RunnerType.COMMAND),
            channel=COMMAND_CHANNEL,
            response_type=common_pb2.NO_RESULT,
            broadcast_results=True,
            store_failure=True,
        )
    )
    args = command_args_pb2.CommandArgs(command="true").SerializeToString()
    return await enqueue_and_count(client, "bench-command", args, jobs, in_flight)


async def direct_latency(client: JwpClient, jobs: int) -> Latencies:
    """Enqueue-to-result time of no-op DIRECT jobs, one at a time."""
    await client.create_worker(
        worker_pb2.WorkerData(
            name="bench-direct",
            runner_id=await client.runner_id(NOOP_RUNNER),
            response_type=common_pb2.DIRECT,
            store_failure=True,
        )
    )
    request = job_service_pb2.JobRequest(worker_name="bench-direct", args=b"")
    for _ in range(20):
        await client.jobs.Enqueue(request)
    samples: list[float] = []
    for _ in range(jobs):
        started = time.perf_counter()
        response = await client.jobs.Enqueue(request)
        samples.append((time.perf_counter() - started) * 1000)
        if response.result.data.status != common_pb2.SUCCESS:
            raise RuntimeError(f"a DIRECT job failed: {response.result.data.output}")
    return Latencies.of(samples)
