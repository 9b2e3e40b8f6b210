"""JobBatchService: many jobs in one call, each checked as JobService.Enqueue checks it."""

from __future__ import annotations

from typing import Any

import grpc

from jwp.errors import InvalidArgumentError
from jwp.proto.jobworkerp.data import job_pb2
from jwp.proto.jwp.service import job_batch_pb2, job_batch_pb2_grpc
from jwp.server.jobs import JobManager

from .common import job_metadata
from .status import status_of, unary

Context = grpc.aio.ServicerContext[Any, Any]

MAX_BATCH_JOBS = 1000
"""Maximum number of requests in one EnqueueBatch call, which bounds the work of one call."""


class JobBatchService(job_batch_pb2_grpc.JobBatchServiceServicer):
    def __init__(self, jobs: JobManager) -> None:
        self._jobs = jobs

    @unary
    async def EnqueueBatch(
        self, request: job_batch_pb2.EnqueueBatchRequest, context: Context
    ) -> job_batch_pb2.EnqueueBatchResponse:
        count = len(request.requests)
        if count == 0:
            raise InvalidArgumentError(
                f"requests is empty; give 1 to {MAX_BATCH_JOBS} job requests"
            )
        if count > MAX_BATCH_JOBS:
            raise InvalidArgumentError(
                f"requests has {count} job requests, over the limit of {MAX_BATCH_JOBS}; "
                "split them into several calls"
            )
        outcomes = await self._jobs.enqueue_batch(request.requests, job_metadata(context))
        response = job_batch_pb2.EnqueueBatchResponse()
        for outcome in outcomes:
            item = response.items.add()
            if isinstance(outcome, int):
                item.id.CopyFrom(job_pb2.JobId(value=outcome))
            else:
                item.error.code = status_of(outcome).name
                item.error.message = str(outcome)
        return response
