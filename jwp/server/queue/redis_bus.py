"""Scalable mode's result bus and cluster events over Redis pub/sub.

Each process opens one pub/sub connection (`RedisSubscriber`) and shares it
among all its local subscriptions: DIRECT waits, Listen, ListenByWorker,
streams, and the cluster event channels. A DIRECT result is pushed to the
jobworkerp list `r:d:{job_id}` and announced on a notification channel; the
waiting front subscribes first, then reads the list, so a result that
arrives in between is not missed, and no pooled connection is held for the
length of a wait. When the pub/sub connection drops, the subscriber
reconnects with backoff, subscribes again, and wakes every local
subscription so DIRECT waits read their list once more.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from jwp.errors import QueueUnavailableError, WaitTimeoutError
from jwp.proto.jobworkerp.data import common_pb2, job_result_pb2

from .base import ClusterEvents, EventHandler, ResultBus, StreamSubscription, Subscription
from .redis_batcher import Command, CommandBatcher
from .redis_client import RedisHealth, as_bytes
from .redis_keys import RedisKeys

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import PubSub

logger = logging.getLogger(__name__)

WAKE_UP = b""
"""Put into local subscription queues after a reconnect; no published payload is empty."""

# How long a new subscription waits for Redis to confirm it, in s.
SUBSCRIBE_CONFIRM_TIMEOUT_S = 10.0

CLOSE_TIMEOUT_S = 5.0
"""Longest wait for Redis to close a connection at shutdown or reconnect, in s."""

# A DIRECT wait reads its result list at least this often, in s, even
# without a notification: a safety net for a notification lost in a
# reconnect that the subscriber has not noticed yet.
DIRECT_RECHECK_S = 5.0


class RedisSubscriber:
    """One pub/sub connection of this process, multiplexed to local queues per channel."""

    def __init__(self, client: Redis, health: RedisHealth) -> None:
        self._client = client
        self._health = health
        self._pubsub: PubSub | None = None
        self._queues: dict[str, set[asyncio.Queue[bytes]]] = collections.defaultdict(set)
        self._handlers: dict[str, Callable[[bytes], None]] = {}
        self._confirmations: dict[str, asyncio.Future[None]] = {}
        self._resubscribed: set[str] = set()
        self._connected = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    async def start(self, handlers: dict[str, Callable[[bytes], None]]) -> None:
        """Subscribe to the permanent channels and start reading; `handlers` run per message."""
        self._handlers = dict(handlers)
        async with self._health.guard("subscribe to Redis pub/sub"):
            await self._connect()
        self._reader = asyncio.create_task(self._read_forever(), name="redis pub/sub reader")

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        for queues in self._queues.values():
            for queue in queues:
                queue.put_nowait(WAKE_UP)
        await self._close_pubsub()

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[asyncio.Queue[bytes]]:
        """Receive the messages published on `channel` from now on, for the block's length."""
        if not self._connected.is_set():
            raise QueueUnavailableError(
                f"cannot subscribe to {channel!r}: Redis at {self._health.url} is unreachable; "
                "retry once it is back"
            )
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        first = not self._queues.get(channel)
        self._queues[channel].add(queue)
        try:
            if first:
                await self._subscribe_remote(channel)
            elif channel in self._confirmations:
                await asyncio.shield(self._confirmations[channel])
            yield queue
        finally:
            await self._drop(channel, queue)

    async def _subscribe_remote(self, channel: str) -> None:
        confirmation = asyncio.get_running_loop().create_future()
        self._confirmations[channel] = confirmation
        try:
            assert self._pubsub is not None
            async with self._health.guard(f"subscribe to {channel!r}"):
                await self._pubsub.subscribe(channel)
            async with asyncio.timeout(SUBSCRIBE_CONFIRM_TIMEOUT_S):
                await asyncio.shield(confirmation)
        except TimeoutError:
            error = QueueUnavailableError(
                f"Redis did not confirm the subscription to {channel!r} within "
                f"{SUBSCRIBE_CONFIRM_TIMEOUT_S:g} s; retry"
            )
            _fail(confirmation, error)
            raise error from None
        except BaseException as error:
            _fail(confirmation, QueueUnavailableError(f"subscribing to {channel!r} failed"))
            raise error
        finally:
            if self._confirmations.get(channel) is confirmation:
                del self._confirmations[channel]

    async def _drop(self, channel: str, queue: asyncio.Queue[bytes]) -> None:
        queues = self._queues.get(channel)
        if queues is None:
            return
        queues.discard(queue)
        if queues:
            return
        del self._queues[channel]
        if self._pubsub is None or not self._connected.is_set():
            return
        try:
            await self._pubsub.unsubscribe(channel)
        except Exception as error:
            # The reconnect subscribes only to channels still in use.
            logger.debug("unsubscribing from %r failed: %s", channel, error)

    async def _connect(self) -> None:
        pubsub = self._client.pubsub()
        channels = [*self._handlers, *self._queues]
        await pubsub.subscribe(*channels)
        self._pubsub = pubsub
        self._resubscribed = set(self._queues)
        self._connected.set()

    async def _close_pubsub(self) -> None:
        self._connected.clear()
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is None:
            return
        try:
            # A connection that stopped answering must not hold up a shutdown
            # or a reconnect, so closing it is bounded.
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                await pubsub.aclose()
        except TimeoutError:
            logger.warning(
                "closing the Redis pub/sub connection took over %g s; dropped it", CLOSE_TIMEOUT_S
            )
        except Exception as error:
            logger.debug("closing the Redis pub/sub connection failed: %s", error)

    async def _read_forever(self) -> None:
        while True:
            try:
                assert self._pubsub is not None
                message = await self._pubsub.get_message(timeout=None)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self._health.failed(error)
                await self._reconnect()
                continue
            if message is not None:
                self._dispatch(message)

    async def _reconnect(self) -> None:
        await self._close_pubsub()
        while True:
            await asyncio.sleep(self._health.backoff_s())
            try:
                await self._connect()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self._health.failed(error)
                await self._close_pubsub()
                continue
            self._health.succeeded()
            return

    def _dispatch(self, message: dict[str, Any]) -> None:
        channel_raw = message.get("channel")
        channel = channel_raw.decode() if isinstance(channel_raw, bytes) else str(channel_raw)
        kind = message.get("type")
        if kind == "subscribe":
            confirmation = self._confirmations.get(channel)
            if confirmation is not None and not confirmation.done():
                confirmation.set_result(None)
            if channel in self._resubscribed:
                # Messages published while the connection was down are lost;
                # wake the local subscribers so they look again.
                self._resubscribed.discard(channel)
                for queue in self._queues.get(channel, ()):
                    queue.put_nowait(WAKE_UP)
            return
        if kind != "message":
            return
        data = message.get("data")
        payload = data if isinstance(data, bytes) else str(data).encode()
        handler = self._handlers.get(channel)
        if handler is not None:
            handler(payload)
        for queue in self._queues.get(channel, ()):
            queue.put_nowait(payload)


def _fail(confirmation: asyncio.Future[None], error: BaseException) -> None:
    """Fail a pending confirmation so that other subscribers to the channel stop waiting."""
    if not confirmation.done():
        confirmation.set_exception(error)
        # Mark the exception retrieved: no other subscriber may be waiting.
        confirmation.exception()


class _ResultSubscription(Subscription):
    def __init__(self, queue: asyncio.Queue[bytes]) -> None:
        self._queue = queue

    async def get(self, timeout_s: float | None) -> job_result_pb2.JobResult:
        try:
            async with asyncio.timeout(timeout_s):
                while True:
                    payload = await self._queue.get()
                    if payload != WAKE_UP:
                        return job_result_pb2.JobResult.FromString(payload)
        except TimeoutError:
            raise WaitTimeoutError(f"no result arrived within {timeout_s:g} s") from None


class _DirectSubscription(Subscription):
    """Reads `r:d:{job_id}` whenever its notification channel signals a result."""

    def __init__(
        self,
        queue: asyncio.Queue[bytes],
        client: Redis,
        key: str,
        health: RedisHealth,
    ) -> None:
        self._queue = queue
        self._client = client
        self._key = key
        self._health = health

    async def get(self, timeout_s: float | None) -> job_result_pb2.JobResult:
        loop = asyncio.get_running_loop()
        deadline = None if timeout_s is None else loop.time() + timeout_s
        while True:
            with contextlib.suppress(QueueUnavailableError):
                async with self._health.guard(f"read DIRECT result list {self._key!r}"):
                    encoded = await self._client.lpop(self._key)
                if encoded is not None:
                    return job_result_pb2.JobResult.FromString(as_bytes(encoded))
            wait_s = DIRECT_RECHECK_S
            if deadline is not None:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise WaitTimeoutError(f"no result arrived within {timeout_s:g} s")
                wait_s = min(wait_s, remaining)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait_s):
                    await self._queue.get()


class _StreamSubscription(StreamSubscription):
    def __init__(self, queue: asyncio.Queue[bytes]) -> None:
        self._queue = queue

    def __aiter__(self) -> AsyncIterator[common_pb2.ResultOutputItem]:
        return self._items()

    async def _items(self) -> AsyncIterator[common_pb2.ResultOutputItem]:
        while True:
            payload = await self._queue.get()
            if payload == WAKE_UP:
                continue
            item = common_pb2.ResultOutputItem.FromString(payload)
            yield item
            if item.HasField("end"):
                return


class RedisResultBus(ResultBus):
    """Delivers results across processes through Redis lists, strings and pub/sub."""

    def __init__(
        self,
        client: Redis,
        keys: RedisKeys,
        health: RedisHealth,
        subscriber: RedisSubscriber,
        *,
        remember_s: int,
        batcher: CommandBatcher | None = None,
    ) -> None:
        self._client = client
        self._keys = keys
        self._health = health
        self._subscriber = subscriber
        self._remember_s = remember_s
        self._batcher = batcher or CommandBatcher(client)

    @contextlib.asynccontextmanager
    async def expect_direct(self, job_id: int) -> AsyncIterator[Subscription]:
        async with self._subscriber.subscribe(self._keys.direct_channel(job_id)) as queue:
            yield _DirectSubscription(
                queue, self._client, self._keys.direct_result(job_id), self._health
            )

    async def send_direct(self, result: job_result_pb2.JobResult) -> None:
        job_id = result.data.job_id.value
        key = self._keys.direct_result(job_id)
        encoded = result.SerializeToString()
        channel = self._keys.direct_channel(job_id)
        # One pipeline runs the commands in this order, so the list exists
        # when the notification arrives and expires with the last push.
        async with self._health.guard(f"send the DIRECT result of job {job_id}"):
            await self._batcher.execute(
                lambda pipe: pipe.rpush(key, encoded),
                lambda pipe: pipe.expire(key, self._remember_s),
                lambda pipe: pipe.publish(channel, b"1"),
            )

    async def publish(self, result: job_result_pb2.JobResult, *, remember: bool) -> None:
        job_id = result.data.job_id.value
        encoded = result.SerializeToString()
        worker_channel = self._keys.worker_results_channel(result.data.worker_id.value)
        action = f"publish the result of job {job_id}"
        commands: list[Command] = []
        if remember:
            latest = self._keys.latest_result(job_id)
            commands.append(lambda pipe: pipe.setex(latest, self._remember_s, encoded))
        job_channel = self._keys.job_results_channel(job_id)
        commands.append(lambda pipe: pipe.publish(job_channel, encoded))
        commands.append(lambda pipe: pipe.publish(worker_channel, encoded))
        async with self._health.guard(action):
            await self._batcher.execute(*commands)

    async def find_latest(self, job_id: int) -> job_result_pb2.JobResult | None:
        async with self._health.guard(f"read the latest result of job {job_id}"):
            encoded = await self._client.get(self._keys.latest_result(job_id))
        return (
            job_result_pb2.JobResult.FromString(as_bytes(encoded)) if encoded is not None else None
        )

    @contextlib.asynccontextmanager
    async def listen_job(self, job_id: int) -> AsyncIterator[Subscription]:
        async with self._subscriber.subscribe(self._keys.job_results_channel(job_id)) as queue:
            yield _ResultSubscription(queue)

    @contextlib.asynccontextmanager
    async def listen_worker(self, worker_id: int) -> AsyncIterator[Subscription]:
        channel = self._keys.worker_results_channel(worker_id)
        async with self._subscriber.subscribe(channel) as queue:
            yield _ResultSubscription(queue)

    async def publish_stream(self, job_id: int, item: common_pb2.ResultOutputItem) -> None:
        async with self._health.guard(f"publish output of job {job_id}"):
            await self._client.publish(self._keys.stream_channel(job_id), item.SerializeToString())

    @contextlib.asynccontextmanager
    async def listen_stream(self, job_id: int) -> AsyncIterator[StreamSubscription]:
        async with self._subscriber.subscribe(self._keys.stream_channel(job_id)) as queue:
            yield _StreamSubscription(queue)


class RedisClusterEvents(ClusterEvents):
    """Worker changes, cancel requests and RDB wake-ups on Redis pub/sub channels.

    A message is `{process id} {number}`; a process ignores its own
    messages, because it acted on the change before publishing it.
    """

    def __init__(
        self, client: Redis, keys: RedisKeys, health: RedisHealth, *, process_id: str
    ) -> None:
        self._client = client
        self._keys = keys
        self._health = health
        self._process_id = process_id
        self._on_worker_changed: EventHandler | None = None
        self._on_cancel: EventHandler | None = None
        self._on_rdb_job_due: Callable[[], None] | None = None
        self._on_runner_changed: EventHandler | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def set_handlers(
        self,
        *,
        on_worker_changed: EventHandler,
        on_cancel: EventHandler,
        on_rdb_job_due: Callable[[], None],
        on_runner_changed: EventHandler | None = None,
    ) -> None:
        self._on_worker_changed = on_worker_changed
        self._on_cancel = on_cancel
        self._on_rdb_job_due = on_rdb_job_due
        self._on_runner_changed = on_runner_changed

    def channel_handlers(self) -> dict[str, Callable[[bytes], None]]:
        """Return the pub/sub handlers to give `RedisSubscriber.start`."""
        return {
            self._keys.worker_changed_channel: self._worker_changed,
            self._keys.cancel_channel: self._cancel,
            self._keys.rdb_due_channel: self._rdb_job_due,
            self._keys.runner_changed_channel: self._runner_changed,
        }

    async def publish_worker_changed(self, worker_id: int) -> None:
        await self._publish(self._keys.worker_changed_channel, worker_id)

    async def publish_cancel(self, job_id: int) -> None:
        await self._publish(self._keys.cancel_channel, job_id)

    async def publish_rdb_job_due(self) -> None:
        await self._publish(self._keys.rdb_due_channel, 0)

    async def publish_runner_changed(self, runner_id: int) -> None:
        await self._publish(self._keys.runner_changed_channel, runner_id)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _publish(self, channel: str, value: int) -> None:
        async with self._health.guard(f"publish on {channel!r}"):
            await self._client.publish(channel, f"{self._process_id} {value}".encode())

    def _parse(self, payload: bytes) -> int | None:
        sender, _, value = payload.decode(errors="replace").rpartition(" ")
        if sender == self._process_id:
            return None
        try:
            return int(value)
        except ValueError:
            logger.warning("ignored a malformed cluster event %r", payload[:100])
            return None

    def _worker_changed(self, payload: bytes) -> None:
        worker_id = self._parse(payload)
        if worker_id is not None and self._on_worker_changed is not None:
            self._spawn(self._on_worker_changed(worker_id))

    def _cancel(self, payload: bytes) -> None:
        job_id = self._parse(payload)
        if job_id is not None and self._on_cancel is not None:
            self._spawn(self._on_cancel(job_id))

    def _runner_changed(self, payload: bytes) -> None:
        runner_id = self._parse(payload)
        if runner_id is not None and self._on_runner_changed is not None:
            self._spawn(self._on_runner_changed(runner_id))

    def _rdb_job_due(self, payload: bytes) -> None:
        if self._parse(payload) is not None and self._on_rdb_job_due is not None:
            self._on_rdb_job_due()

    def _spawn(self, coroutine: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("handling a cluster event failed", exc_info=task.exception())
