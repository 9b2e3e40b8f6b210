"""JobResultService: stored results, Listen and ListenByWorker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc

from jwp.errors import InvalidArgumentError
from jwp.proto.jobworkerp.data import common_pb2, job_result_pb2
from jwp.proto.jobworkerp.service import common_pb2 as service_common_pb2
from jwp.proto.jobworkerp.service import job_result_pb2 as result_service_pb2
from jwp.proto.jobworkerp.service import job_result_pb2_grpc
from jwp.server.results import ResultManager, WorkerRef

from .common import paging, positive_id, send_stream_headers, set_result_trailer
from .status import server_stream, unary

Context = grpc.aio.ServicerContext[Any, Any]


class JobResultService(job_result_pb2_grpc.JobResultServiceServicer):
    def __init__(self, results: ResultManager) -> None:
        self._results = results

    @unary
    async def Delete(
        self, request: job_result_pb2.JobResultId, context: Context
    ) -> service_common_pb2.SuccessResponse:
        deleted = await self._results.delete(positive_id(request.value, "job result id"))
        return service_common_pb2.SuccessResponse(is_success=deleted)

    @unary
    async def Find(
        self, request: job_result_pb2.JobResultId, context: Context
    ) -> result_service_pb2.OptionalJobResultResponse:
        result = await self._results.find(positive_id(request.value, "job result id"))
        return result_service_pb2.OptionalJobResultResponse(data=result)

    @server_stream
    async def FindList(
        self, request: service_common_pb2.FindListRequest, context: Context
    ) -> AsyncIterator[job_result_pb2.JobResult]:
        limit, offset = paging(request)
        for result in await self._results.find_list(limit=limit, offset=offset):
            yield result

    @server_stream
    async def FindListByJobId(
        self, request: result_service_pb2.FindListByJobIdRequest, context: Context
    ) -> AsyncIterator[job_result_pb2.JobResult]:
        if not request.HasField("job_id"):
            raise InvalidArgumentError("job_id is missing; give the id of a job")
        job_id = positive_id(request.job_id.value, "job_id")
        for result in await self._results.find_list_by_job_id(job_id):
            yield result

    @unary
    async def Listen(
        self, request: result_service_pb2.ListenRequest, context: Context
    ) -> job_result_pb2.JobResult:
        if not request.HasField("job_id"):
            raise InvalidArgumentError("job_id is missing; give the id of the job to listen to")
        job_id = positive_id(request.job_id.value, "job_id")
        timeout_ms = request.timeout if request.HasField("timeout") else None
        return await self._results.listen(job_id, _worker_ref(request), timeout_ms)

    @server_stream
    async def ListenStream(
        self, request: result_service_pb2.ListenRequest, context: Context
    ) -> AsyncIterator[common_pb2.ResultOutputItem]:
        """Follow a job's output chunks; the trailing metadata carries its final result.

        The initial metadata (the job id) is sent once the subscription is
        open, so a client that has received it misses no later chunk. A job
        that has already finished, or does not stream, gives one empty item.
        """
        if not request.HasField("job_id"):
            raise InvalidArgumentError("job_id is missing; give the id of the job to listen to")
        job_id = positive_id(request.job_id.value, "job_id")
        timeout_ms = request.timeout if request.HasField("timeout") else None
        async with self._results.listen_stream(job_id, _worker_ref(request), timeout_ms) as stream:
            await send_stream_headers(context, job_id)
            async for item in stream.items():
                yield item
            set_result_trailer(context, stream.result)

    @server_stream
    async def ListenByWorker(
        self, request: result_service_pb2.ListenByWorkerRequest, context: Context
    ) -> AsyncIterator[job_result_pb2.JobResult]:
        # Initial metadata goes out as soon as the subscription is open, so a
        # client can wait for it before it starts jobs it wants to see.
        async def announce() -> None:
            await context.send_initial_metadata(())

        async for result in self._results.listen_by_worker(_worker_ref(request), announce):
            yield result

    @unary
    async def Count(
        self, request: service_common_pb2.CountCondition, context: Context
    ) -> service_common_pb2.CountResponse:
        return service_common_pb2.CountResponse(total=await self._results.count())


def _worker_ref(
    request: result_service_pb2.ListenRequest | result_service_pb2.ListenByWorkerRequest,
) -> WorkerRef:
    which = request.WhichOneof("worker")
    if which == "worker_id":
        return positive_id(request.worker_id.value, "worker_id")
    if which == "worker_name" and request.worker_name:
        return request.worker_name
    raise InvalidArgumentError("worker is missing; set worker_id or worker_name")
