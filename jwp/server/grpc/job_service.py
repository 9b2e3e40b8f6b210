"""JobService, JobStatusService and JobRestoreService."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc

from jwp.proto.jobworkerp.data import common_pb2, job_pb2
from jwp.proto.jobworkerp.service import common_pb2 as service_common_pb2
from jwp.proto.jobworkerp.service import job_pb2 as job_service_pb2
from jwp.proto.jobworkerp.service import job_pb2_grpc
from jwp.server.jobs import JobManager
from jwp.server.restore import JobRestorer

from .common import (
    job_metadata,
    paging,
    positive_id,
    send_stream_headers,
    set_result_trailer,
)
from .status import server_stream, unary

Context = grpc.aio.ServicerContext[Any, Any]


class JobService(job_pb2_grpc.JobServiceServicer):
    def __init__(self, jobs: JobManager) -> None:
        self._jobs = jobs

    @unary
    async def Enqueue(
        self, request: job_service_pb2.JobRequest, context: Context
    ) -> job_service_pb2.CreateJobResponse:
        async def announce(job_id: int) -> None:
            # The job id goes out in the headers before a DIRECT wait, so a
            # client that gives up waiting can still name the job.
            await send_stream_headers(context, job_id)

        outcome = await self._jobs.enqueue(request, job_metadata(context), on_placed=announce)
        response = job_service_pb2.CreateJobResponse(id=job_pb2.JobId(value=outcome.job_id))
        if outcome.result is not None:
            response.result.CopyFrom(outcome.result)
        return response

    @server_stream
    async def EnqueueForStream(
        self, request: job_service_pb2.JobRequest, context: Context
    ) -> AsyncIterator[common_pb2.ResultOutputItem]:
        """Enqueue a job and stream its output chunks, then the `end` trailer item.

        The initial metadata carries the job id (`x-job-id-bin`) and the
        trailing metadata the final JobResult (`x-job-result-bin`). Unlike
        jobworkerp, which streams nothing for a worker that is not DIRECT,
        jwp streams every worker's job.
        """
        async with self._jobs.enqueue_for_stream(request, job_metadata(context)) as stream:
            await send_stream_headers(context, stream.job_id)
            async for item in stream.items():
                yield item
            set_result_trailer(context, stream.result)

    @unary
    async def Delete(
        self, request: job_pb2.JobId, context: Context
    ) -> service_common_pb2.SuccessResponse:
        deleted = await self._jobs.delete(positive_id(request.value, "job id"))
        return service_common_pb2.SuccessResponse(is_success=deleted)

    @unary
    async def Find(
        self, request: job_pb2.JobId, context: Context
    ) -> job_service_pb2.OptionalJobResponse:
        job = await self._jobs.find(positive_id(request.value, "job id"))
        return job_service_pb2.OptionalJobResponse(data=job)

    @server_stream
    async def FindList(
        self, request: service_common_pb2.FindListRequest, context: Context
    ) -> AsyncIterator[job_pb2.Job]:
        limit, offset = paging(request)
        for job in await self._jobs.find_list(limit=limit, offset=offset):
            yield job

    @server_stream
    async def FindQueueList(
        self, request: job_service_pb2.FindQueueListRequest, context: Context
    ) -> AsyncIterator[job_service_pb2.JobAndStatus]:
        limit, _ = paging(request, offset_field="")
        channel = request.channel if request.HasField("channel") else None
        for job, status in await self._jobs.find_queue_list(channel=channel, limit=limit):
            item = job_service_pb2.JobAndStatus(job=job)
            if status is not None:
                item.status = status  # type: ignore[assignment]
            yield item

    @unary
    async def Count(
        self, request: service_common_pb2.CountCondition, context: Context
    ) -> service_common_pb2.CountResponse:
        return service_common_pb2.CountResponse(total=await self._jobs.count())


class JobStatusService(job_pb2_grpc.JobStatusServiceServicer):
    def __init__(self, jobs: JobManager) -> None:
        self._jobs = jobs

    @unary
    async def Find(
        self, request: job_pb2.JobId, context: Context
    ) -> job_service_pb2.OptionalJobStatusResponse:
        status = await self._jobs.find_status(positive_id(request.value, "job id"))
        response = job_service_pb2.OptionalJobStatusResponse()
        if status is not None:
            response.status = status  # type: ignore[assignment]
        return response

    @server_stream
    async def FindAll(
        self, request: common_pb2.Empty, context: Context
    ) -> AsyncIterator[job_service_pb2.JobStatusResponse]:
        for job_id, status in sorted((await self._jobs.find_all_statuses()).items()):
            yield job_service_pb2.JobStatusResponse(
                id=job_pb2.JobId(value=job_id),
                status=status,  # type: ignore[arg-type]
            )


class JobRestoreService(job_pb2_grpc.JobRestoreServiceServicer):
    def __init__(self, restorer: JobRestorer) -> None:
        self._restorer = restorer

    @unary
    async def Restore(
        self, request: job_service_pb2.JobRestoreRequest, context: Context
    ) -> service_common_pb2.SuccessResponse:
        limit, _ = paging(request, offset_field="")
        await self._restorer.restore(include_grabbed=request.include_grabbed, limit=limit)
        return service_common_pb2.SuccessResponse(is_success=True)

    @server_stream
    async def FindAll(
        self, request: job_service_pb2.JobRestoreRequest, context: Context
    ) -> AsyncIterator[job_pb2.Job]:
        limit, _ = paging(request, offset_field="")
        for job in await self._restorer.find(include_grabbed=request.include_grabbed, limit=limit):
            yield job
