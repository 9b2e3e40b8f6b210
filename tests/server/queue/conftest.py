"""Queue and result bus nodes over memory or Redis, as if each were a separate process."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from jwp.config import Settings
from jwp.server.queue import JobQueue, JobStatusMap, ResultBus
from jwp.server.queue.memory import MemoryJobQueue, MemoryJobStatusMap, MemoryResultBus
from tests.support.backends import REDIS_URL, delete_redis_keys, require_services, unique_name

REMEMBER_S = 60


@dataclass
class Node:
    """What one process holds: its queue, status map and result bus."""

    queue: JobQueue
    statuses: JobStatusMap
    bus: ResultBus
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


NodeFactory = Callable[..., Awaitable[Node]]


@pytest.fixture(params=["memory", "redis"])
async def nodes(request: pytest.FixtureRequest) -> AsyncIterator[NodeFactory]:
    """A factory of nodes sharing one backend: memory nodes share one queue, Redis ones a prefix."""
    opened: list[Node] = []
    if request.param == "memory":
        shared = Node(MemoryJobQueue(), MemoryJobStatusMap(), MemoryResultBus(REMEMBER_S))

        async def make_memory(**_: object) -> Node:
            return shared

        yield make_memory
        return

    require_services()
    prefix = f"{unique_name()}:"

    async def make_redis(lease_ms: int = 30_000) -> Node:
        node = await open_redis_node(prefix, lease_ms)
        opened.append(node)
        return node

    try:
        yield make_redis
    finally:
        for node in reversed(opened):
            for closer in reversed(node.closers):
                with contextlib.suppress(Exception):
                    await closer()
        await delete_redis_keys(prefix)


async def open_redis_node(prefix: str, lease_ms: int) -> Node:
    from jwp.server.queue.redis_bus import RedisClusterEvents, RedisResultBus, RedisSubscriber
    from jwp.server.queue.redis_client import RedisHealth, create_client
    from jwp.server.queue.redis_keys import RedisKeys
    from jwp.server.queue.redis_queue import RedisJobQueue, RedisJobStatusMap

    settings = Settings(_env_file=None, redis_url=REDIS_URL)  # type: ignore[call-arg]
    client = create_client(settings)
    keys = RedisKeys(prefix)
    health = RedisHealth(REDIS_URL)
    queue = RedisJobQueue(client, keys, health, lease_ms=lease_ms)
    events = RedisClusterEvents(client, keys, health, process_id=queue.process_id)
    subscriber = RedisSubscriber(client, health)
    await subscriber.start(events.channel_handlers())
    await queue.open()
    bus = RedisResultBus(client, keys, health, subscriber, remember_s=REMEMBER_S)

    async def close_client() -> None:
        await client.aclose(close_connection_pool=True)

    return Node(
        queue=queue,
        statuses=RedisJobStatusMap(client, keys, health),
        bus=bus,
        closers=[close_client, subscriber.close, queue.close],
    )
