"""The queue backend of a server: in process (Standalone) or Redis (Scalable).

`open_backend` builds the job queue, job status map, result bus and
cluster events the settings ask for, and picks the snowflake node id:
JWP_NODE_ID when set, else a node id leased from Redis in Scalable mode, or
one derived from the host's address in Standalone mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from jwp.config import Settings, StorageType
from jwp.ids import SnowflakeGenerator, node_id_from_host
from jwp.server.queue import ClusterEvents, JobQueue, JobStatusMap, LocalClusterEvents, ResultBus
from jwp.server.queue.memory import MemoryJobQueue, MemoryJobStatusMap, MemoryResultBus

logger = logging.getLogger(__name__)

Closer = Callable[[], Awaitable[None]]


@dataclass
class QueueBackend:
    """Where immediate jobs, statuses and results travel, with what to close at the end."""

    queue: JobQueue
    statuses: JobStatusMap
    bus: ResultBus
    events: ClusterEvents
    ids: SnowflakeGenerator
    description: str
    scalable: bool
    closers: list[Closer] = field(default_factory=list)
    restore_lock: Callable[[int], Awaitable[bool]] | None = None
    """Take the start-up restore lock for the given ms; None where one process runs."""

    async def start(self) -> None:
        """Start background work: the queue's process lease, the node id lease."""
        await self.queue.open()

    async def close(self) -> None:
        """Close in reverse order of opening; log and go on when one part fails."""
        for closer in reversed(self.closers):
            try:
                await closer()
            except Exception:
                logger.exception("closing the queue backend failed")


async def open_backend(settings: Settings) -> QueueBackend:
    """Build the backend of the configured STORAGE_TYPE."""
    if settings.storage_type is StorageType.SCALABLE:
        return await _open_redis(settings)
    node_id = settings.jwp_node_id
    if node_id is None:
        node_id = await asyncio.to_thread(node_id_from_host)
    return QueueBackend(
        queue=MemoryJobQueue(),
        statuses=MemoryJobStatusMap(),
        bus=MemoryResultBus(remember_s=settings.job_queue_expire_job_result_seconds),
        events=LocalClusterEvents(),
        ids=SnowflakeGenerator(node_id),
        description="in-process queue",
        scalable=False,
    )


async def _open_redis(settings: Settings) -> QueueBackend:
    from jwp.server.queue.redis_batcher import CommandBatcher
    from jwp.server.queue.redis_bus import RedisClusterEvents, RedisResultBus, RedisSubscriber
    from jwp.server.queue.redis_client import RedisHealth, create_client, safe_url
    from jwp.server.queue.redis_keys import RedisKeys
    from jwp.server.queue.redis_nodes import NodeIdLease
    from jwp.server.queue.redis_queue import RedisJobQueue, RedisJobStatusMap

    client = create_client(settings)

    async def close_client() -> None:
        await client.aclose(close_connection_pool=True)

    closers: list[Closer] = [close_client]
    try:
        keys = RedisKeys(settings.jwp_redis_key_prefix)
        health = RedisHealth(settings.redis_url)
        # One batcher for the queue, the statuses and the bus, so the commands
        # a finishing job issues together go to Redis in one pipeline.
        batcher = CommandBatcher(client)
        queue = RedisJobQueue(client, keys, health, lease_ms=settings.jwp_lease_ms, batcher=batcher)
        events = RedisClusterEvents(client, keys, health, process_id=queue.process_id)
        subscriber = RedisSubscriber(client, health)
        await subscriber.start(events.channel_handlers())
        closers += [subscriber.close, events.close]

        node_lease: NodeIdLease | None = None
        node_id = settings.jwp_node_id
        if node_id is None:
            node_lease = NodeIdLease(
                client, keys, health, process_id=queue.process_id, lease_ms=settings.jwp_lease_ms
            )
            node_id = await node_lease.acquire()
        ids = SnowflakeGenerator(node_id)
        if node_lease is not None:
            node_lease.keep(ids)
            closers.append(node_lease.close)
        closers.append(queue.close)
    except BaseException:
        for closer in reversed(closers):
            with contextlib.suppress(Exception):
                await closer()
        raise

    async def restore_lock(lease_ms: int) -> bool:
        return bool(await client.set(keys.restore_lock, queue.process_id, nx=True, px=lease_ms))

    prefix = f", key prefix {keys.prefix!r}" if keys.prefix else ""
    return QueueBackend(
        queue=queue,
        statuses=RedisJobStatusMap(client, keys, health, batcher=batcher),
        bus=RedisResultBus(
            client,
            keys,
            health,
            subscriber,
            remember_s=settings.job_queue_expire_job_result_seconds,
            batcher=batcher,
        ),
        events=events,
        ids=ids,
        description=f"Redis {safe_url(settings.redis_url)}{prefix}, node id {node_id}",
        scalable=True,
        closers=closers,
        restore_lock=restore_lock,
    )
