"""WorkerService: create, change, find and list workers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from jwp.errors import InvalidArgumentError
from jwp.proto.jobworkerp.data import common_pb2, worker_pb2
from jwp.proto.jobworkerp.service import common_pb2 as service_common_pb2
from jwp.proto.jobworkerp.service import worker_pb2 as worker_service_pb2
from jwp.proto.jobworkerp.service import worker_pb2_grpc
from jwp.server.workers import WorkerManager

from .common import paging, positive_id
from .status import server_stream, unary

Context = grpc.aio.ServicerContext[Any, Any]


class WorkerService(worker_pb2_grpc.WorkerServiceServicer):
    def __init__(
        self,
        workers: WorkerManager,
        served_channels: Callable[[], Awaitable[dict[str, int]]],
    ) -> None:
        self._workers = workers
        self._served_channels = served_channels

    @unary
    async def Create(
        self, request: worker_pb2.WorkerData, context: Context
    ) -> worker_service_pb2.CreateWorkerResponse:
        worker_id = await self._workers.create(request)
        return worker_service_pb2.CreateWorkerResponse(id=worker_pb2.WorkerId(value=worker_id))

    @unary
    async def Update(
        self, request: worker_pb2.Worker, context: Context
    ) -> service_common_pb2.SuccessResponse:
        if not request.HasField("data"):
            raise InvalidArgumentError("data is missing; send the whole new worker data")
        await self._workers.update(request)
        return service_common_pb2.SuccessResponse(is_success=True)

    @unary
    async def Delete(
        self, request: worker_pb2.WorkerId, context: Context
    ) -> service_common_pb2.SuccessResponse:
        deleted = await self._workers.delete(positive_id(request.value, "worker id"))
        return service_common_pb2.SuccessResponse(is_success=deleted)

    @unary
    async def Find(
        self, request: worker_pb2.WorkerId, context: Context
    ) -> worker_service_pb2.OptionalWorkerResponse:
        worker = await self._workers.find(positive_id(request.value, "worker id"))
        return worker_service_pb2.OptionalWorkerResponse(data=worker)

    @unary
    async def FindByName(
        self, request: worker_service_pb2.WorkerNameRequest, context: Context
    ) -> worker_service_pb2.OptionalWorkerResponse:
        if not request.name:
            raise InvalidArgumentError("name is empty; give the name of a worker")
        worker = await self._workers.find_by_name(request.name)
        return worker_service_pb2.OptionalWorkerResponse(data=worker)

    @server_stream
    async def FindList(
        self, request: worker_service_pb2.FindWorkerListRequest, context: Context
    ) -> AsyncIterator[worker_pb2.Worker]:
        limit, offset = paging(request)
        for runner_type in request.runner_types:
            if runner_type not in common_pb2.RunnerType.values():
                raise InvalidArgumentError(f"runner_types contains unknown type {runner_type}")
        workers = await self._workers.find_list(
            runner_types=list(request.runner_types),
            channel=request.channel if request.HasField("channel") else None,
            limit=limit,
            offset=offset,
        )
        for worker in workers:
            yield worker

    @unary
    async def Count(
        self, request: service_common_pb2.CountCondition, context: Context
    ) -> service_common_pb2.CountResponse:
        return service_common_pb2.CountResponse(total=await self._workers.count())

    @unary
    async def FindChannelList(
        self, request: common_pb2.Empty, context: Context
    ) -> worker_service_pb2.FindChannelListResponse:
        # The channels every live dispatching process runs, with concurrencies
        # summed over them: a front runs none itself.
        served = await self._served_channels()
        return worker_service_pb2.FindChannelListResponse(
            channels=[
                worker_service_pb2.ChannelInfo(name=name, concurrency=concurrency)
                for name, concurrency in sorted(served.items())
            ]
        )
