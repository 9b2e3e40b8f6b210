"""Runner instances for jobs: a fresh one per job, or a reused one for static workers.

A worker with `use_static` keeps loaded instances in a pool sized to its
channel's concurrency, so expensive set-up (a virtual environment, an MCP
session, a container) happens once per instance rather than once per job.
A pool is rebuilt when its worker changes and closed when the worker is
deleted or the server stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from jwp.errors import FatalRunnerError, RunnerError
from jwp.proto.jobworkerp.data import worker_pb2
from jwp.server.runners.base import Runner, RunnerSpec

logger = logging.getLogger(__name__)


async def _load(spec: RunnerSpec, settings: bytes, *, static: bool = False) -> Runner:
    instance = spec.factory()
    instance.static = static
    try:
        await instance.load(settings)
    except RunnerError:
        await _close_quietly(instance)
        raise
    except Exception as error:
        await _close_quietly(instance)
        raise FatalRunnerError(f"runner {spec.name} failed to load: {error}") from error
    return instance


async def _close_quietly(instance: Runner) -> None:
    try:
        await instance.close()
    except Exception:
        logger.exception("closing a %s runner instance failed", type(instance).__name__)


class _Pool:
    def __init__(self, worker: worker_pb2.Worker, size: int) -> None:
        self.definition = worker.data.SerializeToString(deterministic=True)
        self.runner_id = worker.data.runner_id.value
        self.size = size
        self.idle: list[Runner] = []
        self.created = 0
        self.closed = False
        self.changed = asyncio.Condition()

    async def take(self, spec: RunnerSpec, settings: bytes) -> Runner:
        async with self.changed:
            await self.changed.wait_for(lambda: bool(self.idle) or self.created < self.size)
            if self.idle:
                return self.idle.pop()
            self.created += 1
        try:
            return await _load(spec, settings, static=True)
        except BaseException:
            async with self.changed:
                self.created -= 1
                self.changed.notify()
            raise

    async def give_back(self, instance: Runner, *, reusable: bool) -> None:
        if reusable and not self.closed:
            async with self.changed:
                self.idle.append(instance)
                self.changed.notify()
            return
        await _close_quietly(instance)
        async with self.changed:
            self.created -= 1
            self.changed.notify()

    async def close(self) -> None:
        self.closed = True
        idle, self.idle = self.idle, []
        for instance in idle:
            await _close_quietly(instance)


class RunnerInstances:
    """Hands out runner instances for jobs and owns the pools of static workers."""

    def __init__(self, channel_concurrencies: dict[str, int]) -> None:
        self._channel_concurrencies = channel_concurrencies
        self._pools: dict[int, _Pool] = {}

    @contextlib.asynccontextmanager
    async def instance(
        self, worker: worker_pb2.Worker, spec: RunnerSpec, channel: str
    ) -> AsyncIterator[Runner]:
        """Lend a loaded instance for one job.

        A static instance that raised something other than a RunnerError, or
        whose job was cancelled, may be in any state, so it is closed rather
        than reused.
        """
        if not worker.data.use_static:
            instance = await _load(spec, worker.data.runner_settings)
            try:
                yield instance
            finally:
                await _close_quietly(instance)
            return

        pool = await self._pool_for(worker, channel)
        instance = await pool.take(spec, worker.data.runner_settings)
        reusable = False
        try:
            yield instance
            reusable = True
        except RunnerError:
            reusable = True
            raise
        finally:
            await pool.give_back(instance, reusable=reusable)

    async def _pool_for(self, worker: worker_pb2.Worker, channel: str) -> _Pool:
        worker_id = worker.id.value
        pool = self._pools.get(worker_id)
        definition = worker.data.SerializeToString(deterministic=True)
        if pool is not None and pool.definition == definition:
            return pool
        if pool is not None:
            # The worker changed since this pool was built: new jobs get a new
            # pool, and the old one closes its idle instances now and the
            # lent ones as they come back.
            self._pools.pop(worker_id)
            await pool.close()
        size = self._channel_concurrencies.get(channel)
        if size is None:
            raise FatalRunnerError(
                f"static worker {worker.data.name!r} uses channel {channel!r}, which this "
                "process does not serve; add it to WORKER_CHANNELS"
            )
        pool = _Pool(worker, size)
        self._pools[worker_id] = pool
        logger.info("created runner pool of %d for static worker %r", size, worker.data.name)
        return pool

    def pool_stats(self, worker_id: int) -> tuple[int, int] | None:
        """Return (instances created, instances idle) of a static worker's pool."""
        pool = self._pools.get(worker_id)
        return (pool.created, len(pool.idle)) if pool is not None else None

    async def drop(self, worker_id: int) -> None:
        """Close the pool of a worker that was updated or deleted."""
        pool = self._pools.pop(worker_id, None)
        if pool is not None:
            await pool.close()
            logger.info("closed runner pool of worker %d", worker_id)

    async def drop_runner(self, runner_id: int) -> None:
        """Close the pools of every worker that uses a runner being deleted."""
        for worker_id in [key for key, pool in self._pools.items() if pool.runner_id == runner_id]:
            await self.drop(worker_id)

    async def close(self) -> None:
        pools, self._pools = self._pools, {}
        for pool in pools.values():
            await pool.close()
