"""Workers: validation, storage and an in-process cache of worker definitions.

A worker is a named, configured use of a runner. Every job names one, so
lookups are cached here; the cache is dropped on every change made through
this manager, and `invalidate` lets other processes' changes (Scalable mode)
reach it too.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable

from jwp.config import Settings
from jwp.errors import InvalidArgumentError, NotFoundError
from jwp.names import name_problem
from jwp.proto.jobworkerp.data import common_pb2, worker_pb2
from jwp.server.runners import codec
from jwp.server.runners.registry import RunnerRegistry
from jwp.server.storage import WorkerRepository

logger = logging.getLogger(__name__)

MAX_CHANNEL_LENGTH = 255

WorkerListener = Callable[[int], Awaitable[None]]
"""Called with a worker id after that worker was updated or deleted."""


class WorkerManager:
    """Creates, changes and finds workers; validates every field first."""

    def __init__(
        self, repository: WorkerRepository, runners: RunnerRegistry, settings: Settings
    ) -> None:
        self._repository = repository
        self._runners = runners
        self._settings = settings
        self._by_id: dict[int, worker_pb2.Worker] = {}
        self._id_by_name: dict[str, int] = {}
        self._listeners: list[WorkerListener] = []
        self._tell_others: WorkerListener | None = None

    def set_change_publisher(self, publish: WorkerListener) -> None:
        """Call `publish(worker_id)` after each change made here, to tell other processes."""
        self._tell_others = publish

    def add_listener(self, listener: WorkerListener) -> None:
        """Call `listener(worker_id)` after each update or delete of a worker."""
        self._listeners.append(listener)

    async def create(self, data: worker_pb2.WorkerData) -> int:
        await self.validate(data)
        worker_id = await self._repository.create(data)
        logger.info("created worker %d %r (runner %d)", worker_id, data.name, data.runner_id.value)
        return worker_id

    async def update(self, worker: worker_pb2.Worker) -> None:
        if not worker.HasField("id"):
            raise InvalidArgumentError("id is missing; set the id of the worker to update")
        await self.validate(worker.data, worker_id=worker.id.value)
        if not await self._repository.update(worker.id.value, worker.data):
            raise NotFoundError(
                f"worker {worker.id.value} not found; list workers with `jwp worker list`"
            )
        await self.invalidate(worker.id.value)
        logger.info("updated worker %d %r", worker.id.value, worker.data.name)

    async def delete(self, worker_id: int) -> bool:
        """Delete a worker and its stored jobs; jobs still queued are dropped when fetched."""
        deleted, jobs_deleted = await self._repository.delete(worker_id)
        if deleted:
            await self.invalidate(worker_id)
            logger.info("deleted worker %d and %d stored job(s) of it", worker_id, jobs_deleted)
        return deleted

    async def find(self, worker_id: int) -> worker_pb2.Worker | None:
        worker = self._by_id.get(worker_id)
        if worker is None:
            worker = await self._repository.find(worker_id)
            if worker is not None:
                self._remember(worker)
        return worker

    async def find_by_name(self, name: str) -> worker_pb2.Worker | None:
        worker_id = self._id_by_name.get(name)
        if worker_id is not None and worker_id in self._by_id:
            return self._by_id[worker_id]
        worker = await self._repository.find_by_name(name)
        if worker is not None:
            self._remember(worker)
        return worker

    async def find_list(
        self,
        *,
        runner_types: list[int],
        channel: str | None,
        limit: int | None,
        offset: int,
    ) -> list[worker_pb2.Worker]:
        return await self._repository.find_list(
            runner_ids=runner_types, channel=channel, limit=limit, offset=offset
        )

    async def count(self) -> int:
        return await self._repository.count()

    async def invalidate(self, worker_id: int, *, tell_others: bool = True) -> None:
        """Drop a cached worker and tell listeners it changed.

        With `tell_others` the change is also published to the other
        processes of a Scalable deployment; a process that receives it calls
        this with `tell_others=False`.
        """
        old = self._by_id.pop(worker_id, None)
        if old is not None:
            self._id_by_name.pop(old.data.name, None)
        for listener in self._listeners:
            try:
                await listener(worker_id)
            except Exception:
                logger.exception("worker change listener failed for worker %d", worker_id)
        if tell_others and self._tell_others is not None:
            try:
                await self._tell_others(worker_id)
            except Exception as error:
                # Other processes keep a stale copy until they restart or
                # the worker changes again; the change itself is stored.
                logger.warning(
                    "could not tell other processes that worker %d changed: %s", worker_id, error
                )

    def _remember(self, worker: worker_pb2.Worker) -> None:
        self._by_id[worker.id.value] = worker
        self._id_by_name[worker.data.name] = worker.id.value

    async def validate(self, data: worker_pb2.WorkerData, worker_id: int | None = None) -> None:
        """Raise InvalidArgumentError naming the first field of `data` that cannot be used."""
        _check_name(data.name)
        _check_enums(data)
        _check_channel(data)
        self._check_timing(data)
        _check_retry_policy(data)
        spec = self._runners.find(data.runner_id.value) if data.HasField("runner_id") else None
        if spec is None:
            raise InvalidArgumentError(
                f"runner_id {data.runner_id.value if data.HasField('runner_id') else '(missing)'} "
                "is not a known runner; list runners with `jwp runner list`"
            )
        await codec.check_settings(spec, data.runner_settings)
        await self._check_next_workers(data, worker_id)

    def _check_timing(self, data: worker_pb2.WorkerData) -> None:
        direct = data.response_type == common_pb2.DIRECT
        if data.periodic_interval and direct:
            raise InvalidArgumentError(
                "periodic_interval cannot be used with response_type DIRECT, because no caller "
                "waits for periodic runs; use NO_RESULT with broadcast_results"
            )
        fetch_interval = self._settings.job_queue_fetch_interval
        if data.periodic_interval and data.periodic_interval <= fetch_interval:
            raise InvalidArgumentError(
                f"periodic_interval {data.periodic_interval} ms must be greater than "
                f"JOB_QUEUE_FETCH_INTERVAL ({fetch_interval} ms)"
            )
        if data.queue_type == common_pb2.FORCED_RDB and direct:
            raise InvalidArgumentError(
                "queue_type FORCED_RDB cannot be used with response_type DIRECT; "
                "use NORMAL or WITH_BACKUP for DIRECT workers"
            )

    async def _check_next_workers(self, data: worker_pb2.WorkerData, worker_id: int | None) -> None:
        for next_worker in data.next_workers:
            if worker_id is not None and next_worker.value == worker_id:
                raise InvalidArgumentError(
                    f"next_workers names worker {worker_id} itself, which would repeat forever"
                )
            if await self.find(next_worker.value) is None:
                raise InvalidArgumentError(
                    f"next_workers names worker {next_worker.value}, which does not exist"
                )


def _check_name(name: str) -> None:
    problem = name_problem(name, "worker")
    if problem is not None:
        raise InvalidArgumentError(problem)


def _check_enums(data: worker_pb2.WorkerData) -> None:
    checks = (
        ("queue_type", data.queue_type, common_pb2.QueueType),
        ("response_type", data.response_type, common_pb2.ResponseType),
    )
    for field_name, value, enum_type in checks:
        if value not in enum_type.values():
            names = ", ".join(enum_type.keys())
            raise InvalidArgumentError(f"{field_name} {value} is not one of {names}")


def _check_channel(data: worker_pb2.WorkerData) -> None:
    if not data.HasField("channel"):
        return
    if len(data.channel) > MAX_CHANNEL_LENGTH:
        raise InvalidArgumentError(
            f"channel is {len(data.channel)} characters long; use at most {MAX_CHANNEL_LENGTH}"
        )
    if data.channel and not data.channel.isprintable():
        raise InvalidArgumentError(f"channel {data.channel!r} contains control characters")


def _check_retry_policy(data: worker_pb2.WorkerData) -> None:
    if not data.HasField("retry_policy"):
        return
    policy = data.retry_policy
    if policy.type not in common_pb2.RetryType.values():
        names = ", ".join(common_pb2.RetryType.keys())
        raise InvalidArgumentError(f"retry_policy.type {policy.type} is not one of {names}")
    if not policy.basis >= 1.0:
        raise InvalidArgumentError(
            f"retry_policy.basis {policy.basis} must be 1.0 or more (2.0 doubles each delay)"
        )
    if math.isinf(policy.basis):
        raise InvalidArgumentError(
            "retry_policy.basis is infinite; give a finite factor such as 2.0, and cap long "
            "delays with max_interval"
        )
    if policy.max_interval and policy.max_interval < policy.interval:
        raise InvalidArgumentError(
            f"retry_policy.max_interval {policy.max_interval} ms is below interval "
            f"{policy.interval} ms; raise it or set 0 for no cap"
        )
