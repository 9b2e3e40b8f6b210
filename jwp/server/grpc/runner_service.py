"""RunnerService: the runners this server can run."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import grpc

from jwp.errors import FailedPreconditionError, InvalidArgumentError
from jwp.proto.jobworkerp.data import common_pb2, runner_pb2
from jwp.proto.jobworkerp.service import common_pb2 as service_common_pb2
from jwp.proto.jobworkerp.service import runner_pb2 as runner_service_pb2
from jwp.proto.jobworkerp.service import runner_pb2_grpc
from jwp.server.runners.external import ExternalRunners
from jwp.server.runners.registry import MAX_RESERVED_RUNNER_ID, RunnerRegistry
from jwp.server.workers import WorkerManager

from .common import paging
from .status import server_stream, unary

logger = logging.getLogger(__name__)

Context = grpc.aio.ServicerContext[Any, Any]


# Workers named in the error when a runner in use is deleted.
MAX_LISTED_USERS = 5


class RunnerService(runner_pb2_grpc.RunnerServiceServicer):
    def __init__(
        self, registry: RunnerRegistry, external: ExternalRunners, workers: WorkerManager
    ) -> None:
        self._registry = registry
        self._external = external
        self._workers = workers

    @unary
    async def Create(
        self, request: runner_service_pb2.CreateRunnerRequest, context: Context
    ) -> runner_service_pb2.CreateRunnerResponse:
        """Add an MCP server or plugin runner.

        An MCP server is connected to before it is added: a definition that
        does not parse is INVALID_ARGUMENT, a server that cannot be reached
        is FAILED_PRECONDITION (the request may pass once the server runs).
        """
        allowed = (common_pb2.RunnerType.MCP_SERVER, common_pb2.RunnerType.PLUGIN)
        if request.runner_type not in allowed:
            raise InvalidArgumentError(
                f"runner_type {_type_name(request.runner_type)} cannot be created; "
                "only MCP_SERVER and PLUGIN runners are added at run time"
            )
        runner_id = await self._external.create(
            name=request.name,
            description=request.description,
            runner_type=request.runner_type,
            definition=request.definition,
        )
        return runner_service_pb2.CreateRunnerResponse(id=runner_pb2.RunnerId(value=runner_id))

    @unary
    async def Delete(
        self, request: runner_pb2.RunnerId, context: Context
    ) -> service_common_pb2.SuccessResponse:
        if request.value <= MAX_RESERVED_RUNNER_ID:
            raise InvalidArgumentError(
                f"runner id {request.value} is reserved for runners built in to the server "
                f"(ids up to {MAX_RESERVED_RUNNER_ID}), which cannot be deleted"
            )
        users = await self._workers.find_list(
            runner_types=[request.value], channel=None, limit=MAX_LISTED_USERS + 1, offset=0
        )
        if users:
            names = ", ".join(repr(worker.data.name) for worker in users[:MAX_LISTED_USERS])
            more = " and more" if len(users) > MAX_LISTED_USERS else ""
            raise FailedPreconditionError(
                f"runner {request.value} is used by worker(s) {names}{more}; delete those "
                "workers or move them to another runner first"
            )
        deleted = await self._external.delete(request.value)
        return service_common_pb2.SuccessResponse(is_success=deleted)

    @unary
    async def Find(
        self, request: runner_pb2.RunnerId, context: Context
    ) -> runner_service_pb2.OptionalRunnerResponse:
        spec = self._registry.find(request.value)
        if spec is None:
            return runner_service_pb2.OptionalRunnerResponse()
        return runner_service_pb2.OptionalRunnerResponse(data=spec.to_proto())

    @unary
    async def FindByName(
        self, request: runner_service_pb2.RunnerNameRequest, context: Context
    ) -> runner_service_pb2.OptionalRunnerResponse:
        spec = self._registry.find_by_name(request.name)
        if spec is None:
            return runner_service_pb2.OptionalRunnerResponse()
        return runner_service_pb2.OptionalRunnerResponse(data=spec.to_proto())

    @server_stream
    async def FindList(
        self, request: service_common_pb2.FindListRequest, context: Context
    ) -> AsyncIterator[runner_pb2.Runner]:
        limit, offset = paging(request)
        specs = self._registry.all()[offset:]
        if limit is not None:
            specs = specs[:limit]
        for spec in specs:
            yield spec.to_proto()

    @unary
    async def Count(
        self, request: service_common_pb2.CountCondition, context: Context
    ) -> service_common_pb2.CountResponse:
        return service_common_pb2.CountResponse(total=len(self._registry))


def _type_name(runner_type: int) -> str:
    try:
        return common_pb2.RunnerType.Name(runner_type)
    except ValueError:
        return str(runner_type)
