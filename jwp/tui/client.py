"""The dashboard's gRPC client: one channel, every call it makes, errors as `ClientError`.

Every method is a coroutine or an async iterator for the event loop the
dashboard runs in. A failed call raises `ClientError` with a one-line
message that names the action and the gRPC status, so screens can show it
as it is.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from jwp.cli.client import Target, tls_mismatch_hint
from jwp.cli.credentials import channel_credentials
from jwp.config import DEFAULT_CHANNEL
from jwp.proto.jobworkerp.data import common_pb2, job_pb2, job_result_pb2, runner_pb2, worker_pb2
from jwp.proto.jobworkerp.service import common_pb2 as service_common_pb2
from jwp.proto.jobworkerp.service import job_pb2 as job_service_pb2
from jwp.proto.jobworkerp.service import (
    job_pb2_grpc,
    job_result_pb2_grpc,
    runner_pb2_grpc,
    worker_pb2_grpc,
)
from jwp.proto.jobworkerp.service import job_result_pb2 as result_service_pb2
from jwp.proto.jobworkerp.service import worker_pb2 as worker_service_pb2
from jwp.proto.jwp.service import dashboard_pb2, dashboard_pb2_grpc

logger = logging.getLogger(__name__)

AUTH_HEADER = "jobworkerp-auth"

DEFAULT_CALL_TIMEOUT_S = 10.0
"""Deadline of unary calls, in s; streams and enqueues to DIRECT workers have none."""

# gRPC's own reconnect backoff grows to 120 s by default, which would keep
# the dashboard disconnected long after a restarted server is back.
CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 250),
    ("grpc.min_reconnect_backoff_ms", 250),
    ("grpc.max_reconnect_backoff_ms", 2000),
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
]


class ClientError(Exception):
    """A call to the server failed; the message names the action and the reason."""

    def __init__(self, message: str, code: grpc.StatusCode | None = None) -> None:
        super().__init__(message)
        self.code = code


@contextlib.contextmanager
def _translated(action: str, *, tls: bool) -> Iterator[None]:
    try:
        yield
    except grpc.aio.AioRpcError as error:
        code = error.code()
        details = error.details() or "no details"
        hint = tls_mismatch_hint(details, tls=tls) if code == grpc.StatusCode.UNAVAILABLE else None
        message = f"{action} failed: {hint}" if hint else f"{action} failed: {code.name}: {details}"
        raise ClientError(message, code) from error


class JwpClient:
    """Calls the jobworkerp services, the health service and the jwp dashboard service.

    Args:
        address: The server, as `jwp.cli.client.parse_address` parses `--address`.
    """

    def __init__(
        self,
        address: Target,
        *,
        auth_token: str | None = None,
        call_timeout_s: float = DEFAULT_CALL_TIMEOUT_S,
    ) -> None:
        self.address = address
        if address.tls:
            credentials = channel_credentials()
            self._channel = grpc.aio.secure_channel(address.target, credentials, CHANNEL_OPTIONS)
        else:
            self._channel = grpc.aio.insecure_channel(address.target, CHANNEL_OPTIONS)
        self._metadata = ((AUTH_HEADER, auth_token),) if auth_token else ()
        self._timeout_s = call_timeout_s
        self._runners = runner_pb2_grpc.RunnerServiceStub(self._channel)
        self._workers = worker_pb2_grpc.WorkerServiceStub(self._channel)
        self._jobs = job_pb2_grpc.JobServiceStub(self._channel)
        self._statuses = job_pb2_grpc.JobStatusServiceStub(self._channel)
        self._results = job_result_pb2_grpc.JobResultServiceStub(self._channel)
        self._dashboard = dashboard_pb2_grpc.DashboardServiceStub(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)

    async def close(self) -> None:
        await self._channel.close(grace=None)

    def _translating(self, action: str) -> contextlib.AbstractContextManager[None]:
        """Turn a failed call into a ClientError that names `action`."""
        return _translated(action, tls=self.address.tls)

    def _options(self, *, timeout: bool = True) -> dict[str, Any]:
        options: dict[str, Any] = {"metadata": self._metadata}
        if timeout:
            options["timeout"] = self._timeout_s
        return options

    async def _collect(self, action: str, stream: Any) -> list[Any]:
        with self._translating(action):
            return [item async for item in stream]

    async def _stream(self, action: str, stream: Any) -> AsyncIterator[Any]:
        """Yield a server stream's items; cancel the call when the consumer stops early."""
        try:
            with self._translating(action):
                async for item in stream:
                    yield item
        finally:
            stream.cancel()

    # Health and load

    async def check_health(self) -> str:
        """Return the server's overall health status name, e.g. SERVING."""
        with self._translating("health check"):
            response = await self._health.Check(
                health_pb2.HealthCheckRequest(service=""), **self._options()
            )
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(response.status))

    async def watch_health(self) -> AsyncIterator[str]:
        """Yield the overall health status name at once and on every change."""
        stream = self._health.Watch(
            health_pb2.HealthCheckRequest(service=""), **self._options(timeout=False)
        )
        async for response in self._stream("health watch", stream):
            yield str(health_pb2.HealthCheckResponse.ServingStatus.Name(response.status))

    async def watch_load(
        self, interval_ms: int, result_window_s: int = 0
    ) -> AsyncIterator[dashboard_pb2.ChannelLoadSnapshot]:
        request = dashboard_pb2.WatchChannelsRequest(
            interval_ms=interval_ms, result_window_s=result_window_s
        )
        stream = self._dashboard.WatchChannels(request, **self._options(timeout=False))
        async for snapshot in self._stream("channel load stream", stream):
            yield snapshot

    # Runners

    async def list_runners(self) -> list[runner_pb2.Runner]:
        stream = self._runners.FindList(service_common_pb2.FindListRequest(), **self._options())
        return await self._collect("list runners", stream)

    async def find_runner(self, runner_id: int) -> runner_pb2.Runner | None:
        with self._translating(f"find runner {runner_id}"):
            response = await self._runners.Find(
                runner_pb2.RunnerId(value=runner_id), **self._options()
            )
        return response.data if response.HasField("data") else None

    # Workers

    async def list_workers(self) -> list[worker_pb2.Worker]:
        request = worker_service_pb2.FindWorkerListRequest()
        return await self._collect(
            "list workers", self._workers.FindList(request, **self._options())
        )

    async def find_worker(self, worker_id: int) -> worker_pb2.Worker | None:
        with self._translating(f"find worker {worker_id}"):
            response = await self._workers.Find(
                worker_pb2.WorkerId(value=worker_id), **self._options()
            )
        return response.data if response.HasField("data") else None

    async def list_channels(self) -> list[worker_service_pb2.ChannelInfo]:
        """List the channels the server serves, or only the default one on an older server."""
        try:
            with self._translating("list channels"):
                response = await self._workers.FindChannelList(
                    common_pb2.Empty(), **self._options()
                )
        except ClientError as error:
            # FindChannelList came after the jobworkerp API version jwp speaks,
            # so an older server returns UNIMPLEMENTED.
            if error.code != grpc.StatusCode.UNIMPLEMENTED:
                raise
            return [worker_service_pb2.ChannelInfo(name=DEFAULT_CHANNEL)]
        return list(response.channels)

    async def create_worker(self, data: worker_pb2.WorkerData) -> int:
        with self._translating(f"create worker {data.name!r}"):
            response = await self._workers.Create(data, **self._options())
        return int(response.id.value)

    async def update_worker(self, worker: worker_pb2.Worker) -> None:
        with self._translating(f"update worker {worker.id.value}"):
            await self._workers.Update(worker, **self._options())

    async def delete_worker(self, worker_id: int) -> bool:
        with self._translating(f"delete worker {worker_id}"):
            response = await self._workers.Delete(
                worker_pb2.WorkerId(value=worker_id), **self._options()
            )
        return bool(response.is_success)

    # Jobs

    async def list_jobs(self, limit: int) -> list[job_pb2.Job]:
        request = service_common_pb2.FindListRequest(limit=limit)
        return await self._collect("list jobs", self._jobs.FindList(request, **self._options()))

    async def list_queued(self, channel: str, limit: int) -> list[job_service_pb2.JobAndStatus]:
        request = job_service_pb2.FindQueueListRequest(limit=limit, channel=channel)
        stream = self._jobs.FindQueueList(request, **self._options())
        return await self._collect(f"list queued jobs of channel {channel!r}", stream)

    async def job_statuses(self) -> dict[int, int]:
        """Map the id of every unfinished job to its JobStatus value."""
        stream = self._statuses.FindAll(common_pb2.Empty(), **self._options())
        responses = await self._collect("list job statuses", stream)
        return {response.id.value: response.status for response in responses}

    async def find_job(self, job_id: int) -> job_pb2.Job | None:
        with self._translating(f"find job {job_id}"):
            response = await self._jobs.Find(job_pb2.JobId(value=job_id), **self._options())
        return response.data if response.HasField("data") else None

    async def job_status(self, job_id: int) -> int | None:
        with self._translating(f"find the status of job {job_id}"):
            response = await self._statuses.Find(job_pb2.JobId(value=job_id), **self._options())
        return response.status if response.HasField("status") else None

    async def enqueue(
        self, request: job_service_pb2.JobRequest
    ) -> job_service_pb2.CreateJobResponse:
        """Enqueue a job; for a DIRECT worker this waits for the result without a deadline."""
        with self._translating("enqueue"):
            response: job_service_pb2.CreateJobResponse = await self._jobs.Enqueue(
                request, **self._options(timeout=False)
            )
        return response

    async def delete_job(self, job_id: int) -> bool:
        with self._translating(f"delete job {job_id}"):
            response = await self._jobs.Delete(job_pb2.JobId(value=job_id), **self._options())
        return bool(response.is_success)

    # Job results

    async def list_results(self, limit: int) -> list[job_result_pb2.JobResult]:
        request = service_common_pb2.FindListRequest(limit=limit)
        stream = self._results.FindList(request, **self._options())
        return await self._collect("list job results", stream)

    async def list_results_of_job(self, job_id: int) -> list[job_result_pb2.JobResult]:
        request = result_service_pb2.FindListByJobIdRequest(job_id=job_pb2.JobId(value=job_id))
        stream = self._results.FindListByJobId(request, **self._options())
        return await self._collect(f"list results of job {job_id}", stream)

    async def delete_result(self, result_id: int) -> bool:
        with self._translating(f"delete job result {result_id}"):
            response = await self._results.Delete(
                job_result_pb2.JobResultId(value=result_id), **self._options()
            )
        return bool(response.is_success)

    async def listen_by_worker(
        self, worker_id: int, on_subscribed: Callable[[], Awaitable[None]] | None = None
    ) -> AsyncIterator[job_result_pb2.JobResult]:
        """Yield every result of a worker with broadcast_results from now on.

        `on_subscribed` runs once the server has opened the subscription (a jwp
        server sends its initial metadata then), so results from that moment
        on are not missed.
        """
        request = result_service_pb2.ListenByWorkerRequest(
            worker_id=worker_pb2.WorkerId(value=worker_id)
        )
        action = f"listen to worker {worker_id}"
        stream = self._results.ListenByWorker(request, **self._options(timeout=False))
        try:
            with self._translating(action):
                await stream.initial_metadata()
            if on_subscribed is not None:
                await on_subscribed()
            async for result in self._stream(action, stream):
                yield result
        finally:
            stream.cancel()
