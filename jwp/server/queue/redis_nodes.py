"""Snowflake node ids leased from Redis, so ids never collide across hosts.

Each process takes a free id n in 0-1023 with `SET jwp:node:{n} <process> NX
PX <lease>` and renews it every third of the lease. If the key was lost (a
Redis restart without persistence) the process takes the same id again
when it is still free, or another free one, and its generator switches to
it; ids stay unique because no two live processes hold one node id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from typing import TYPE_CHECKING

from jwp.errors import QueueUnavailableError
from jwp.ids import MAX_NODE_ID, SnowflakeGenerator

from .redis_client import RedisHealth
from .redis_keys import RedisKeys

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger(__name__)

RENEW_SCRIPT = """
-- KEYS: node key; ARGV: process id, lease ms
local owner = redis.call('GET', KEYS[1])
if owner == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not owner then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 0
end
return -1
"""

RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class NodeIdLease:
    """Holds one snowflake node id for this process while it runs."""

    def __init__(
        self,
        client: Redis,
        keys: RedisKeys,
        health: RedisHealth,
        *,
        process_id: str,
        lease_ms: int,
    ) -> None:
        self._client = client
        self._keys = keys
        self._health = health
        self._process_id = process_id
        self._lease_ms = lease_ms
        self._renew = client.register_script(RENEW_SCRIPT)
        self._release = client.register_script(RELEASE_SCRIPT)
        self._generator: SnowflakeGenerator | None = None
        self._task: asyncio.Task[None] | None = None
        self.node_id: int | None = None

    async def acquire(self) -> int:
        """Lease a free node id, trying them from a random start; return it."""
        start = random.randint(0, MAX_NODE_ID)
        async with self._health.guard("lease a snowflake node id"):
            for offset in range(MAX_NODE_ID + 1):
                candidate = (start + offset) % (MAX_NODE_ID + 1)
                taken = await self._client.set(
                    self._keys.node(candidate), self._process_id, nx=True, px=self._lease_ms
                )
                if taken:
                    self.node_id = candidate
                    return candidate
        raise QueueUnavailableError(
            f"all {MAX_NODE_ID + 1} snowflake node ids are leased by live processes; stop some "
            "processes or set JWP_NODE_ID"
        )

    def keep(self, generator: SnowflakeGenerator) -> None:
        """Start renewing the lease; switch `generator` to a new id if this one was taken."""
        self._generator = generator
        self._task = asyncio.create_task(self._keep_lease(), name="snowflake node id lease")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.node_id is not None:
            with contextlib.suppress(Exception):
                await self._release(keys=[self._keys.node(self.node_id)], args=[self._process_id])

    async def _keep_lease(self) -> None:
        while True:
            await asyncio.sleep(self._lease_ms / 3000)
            assert self.node_id is not None
            try:
                state = await self._renew(
                    keys=[self._keys.node(self.node_id)], args=[self._process_id, self._lease_ms]
                )
                if state == -1:
                    await self._switch()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self._health.failed(error)

    async def _switch(self) -> None:
        # NOTE: until this switch, this process and the new owner both used
        # the old node id, so an id made in that window could repeat one of
        # theirs if both used the same millisecond and sequence number.
        old = self.node_id
        new = await self.acquire()
        if self._generator is not None:
            self._generator.node_id = new
        logger.warning(
            "snowflake node id %s was taken by another process while this one could not renew "
            "it; switched to node id %d",
            old,
            new,
        )
