"""Scalable mode's job queue and job status map over Redis.

Jobs wait in the jobworkerp lists `q{priority}:{channel}:` as encoded Job
messages. `fetch` moves them, in one Lua script, into a processing hash
owned by this process; a process lease key, renewed every third of
JWP_LEASE_MS, says the owner is alive. Every process reaps the processing
hashes of processes whose lease expired and puts their jobs back at the
head of their queues, so a job of a process that died runs again (at least
once). Idle fetchers block on a per-channel wake list that pushes feed,
so an empty queue costs one BLPOP per second per channel, not a poll loop.

A uniq_key of a queued job is held by a `jwp:uniq:{key}` string from push
until the job completes or is cancelled, so a second pending job with the
same key is rejected. jobworkerp's Redis queue did not check uniq_key.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from jwp.errors import AlreadyExistsError, QueueUnavailableError
from jwp.proto.jobworkerp.data import common_pb2, job_pb2

from .base import JobQueue, JobStatusMap, QueuedJob
from .redis_batcher import CommandBatcher
from .redis_client import RedisHealth, as_bytes, as_text
from .redis_keys import PRIORITIES, RedisKeys

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger(__name__)

# At most this many wake tokens wait in a channel's wake list. A token only
# wakes a fetcher that then pops what is there, so more would only cause
# empty wake-ups.
MAX_WAKE_TOKENS = 64

PUSH_SCRIPT = """
-- KEYS: queue, wake, channels set[, uniq key]; ARGV: job, channel, job id, max tokens
if #KEYS >= 4 then
  local owner = redis.call('GET', KEYS[4])
  if owner and owner ~= ARGV[3] then return 0 end
  redis.call('SET', KEYS[4], ARGV[3])
end
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[2])
if redis.call('LLEN', KEYS[2]) < tonumber(ARGV[4]) then redis.call('RPUSH', KEYS[2], '1') end
return 1
"""

FETCH_SCRIPT = """
-- KEYS: queue high, medium, low, processing hash, wake, sequence; ARGV: max jobs
local max = tonumber(ARGV[1])
local out = {}
local taken = 0
for i = 1, 3 do
  while taken < max do
    local job = redis.call('LPOP', KEYS[i])
    if not job then break end
    local token = tostring(redis.call('INCR', KEYS[6]))
    redis.call('HSET', KEYS[4], token, KEYS[i] .. '\\n' .. KEYS[5] .. '\\n' .. job)
    out[#out + 1] = token
    out[#out + 1] = job
    taken = taken + 1
  end
end
local left = redis.call('LLEN', KEYS[1]) + redis.call('LLEN', KEYS[2]) + redis.call('LLEN', KEYS[3])
if left == 0 then
  redis.call('DEL', KEYS[5])
elseif redis.call('LLEN', KEYS[5]) == 0 then
  redis.call('RPUSH', KEYS[5], '1')
end
return out
"""

COMPLETE_SCRIPT = """
-- KEYS: processing hash[, uniq key]; ARGV: token, job id
local removed = redis.call('HDEL', KEYS[1], ARGV[1])
if removed == 1 and #KEYS >= 2 and redis.call('GET', KEYS[2]) == ARGV[2] then
  redis.call('DEL', KEYS[2])
end
return removed
"""

RETURN_SCRIPT = """
-- KEYS: processing hash, queue, wake; ARGV: token, job, 'head' or 'tail', max tokens
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
if ARGV[3] == 'head' then
  redis.call('LPUSH', KEYS[2], ARGV[2])
else
  redis.call('RPUSH', KEYS[2], ARGV[2])
end
if redis.call('LLEN', KEYS[3]) < tonumber(ARGV[4]) then redis.call('RPUSH', KEYS[3], '1') end
return 1
"""

REMOVE_SCRIPT = """
-- KEYS: queue[, uniq key]; ARGV: job, job id
local removed = redis.call('LREM', KEYS[1], 1, ARGV[1])
if removed == 1 and #KEYS >= 2 and redis.call('GET', KEYS[2]) == ARGV[2] then
  redis.call('DEL', KEYS[2])
end
return removed
"""

RENEW_SCRIPT = """
-- KEYS: process lease, processes set
-- ARGV: process id, lease ms, JSON object of the channels the process runs
if redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[2], 'XX') then return 1 end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
return 0
"""

REAP_SCRIPT = """
-- KEYS: process lease, processing hash, processes set; ARGV: process id
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
local entries = redis.call('HGETALL', KEYS[2])
local count = 0
for i = 2, #entries, 2 do
  local value = entries[i]
  local first = string.find(value, '\\n', 1, true)
  local second = string.find(value, '\\n', first + 1, true)
  local queue = string.sub(value, 1, first - 1)
  local wake = string.sub(value, first + 1, second - 1)
  redis.call('LPUSH', queue, string.sub(value, second + 1))
  redis.call('RPUSH', wake, '1')
  count = count + 1
end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
return count
"""


def new_process_id() -> str:
    """Return an id naming this process in Redis: host, pid and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass(frozen=True)
class _Token:
    """The processing hash entry of a fetched job."""

    field: str


class RedisJobQueue(JobQueue):
    """Channel queues in Redis lists, shared by every process of a Scalable deployment."""

    def __init__(
        self,
        client: Redis,
        keys: RedisKeys,
        health: RedisHealth,
        *,
        lease_ms: int,
        batcher: CommandBatcher | None = None,
    ) -> None:
        self._client = client
        self._keys = keys
        self._health = health
        self._lease_ms = lease_ms
        self.process_id = new_process_id()
        self._processing = keys.processing(self.process_id)
        self._batcher = batcher or CommandBatcher(client)
        self._push = client.register_script(PUSH_SCRIPT)
        self._fetch = client.register_script(FETCH_SCRIPT)
        self._complete = client.register_script(COMPLETE_SCRIPT)
        self._return = client.register_script(RETURN_SCRIPT)
        self._remove = client.register_script(REMOVE_SCRIPT)
        self._renew = client.register_script(RENEW_SCRIPT)
        self._reap = client.register_script(REAP_SCRIPT)
        self._heartbeat: asyncio.Task[None] | None = None
        self._advertised = "{}"

    async def open(self) -> None:
        """Register this process and start renewing its lease and reaping dead ones."""
        async with self._health.guard("register this process in Redis"):
            await self._renew(
                keys=[self._keys.process_lease(self.process_id), self._keys.processes],
                args=[self.process_id, self._lease_ms, self._advertised],
            )
        self._heartbeat = asyncio.create_task(self._keep_lease(), name="redis process lease")
        logger.info("Redis queue open as process %s (lease %d ms)", self.process_id, self._lease_ms)

    async def close(self) -> None:
        """Stop renewing, return jobs still held to their queues, and unregister."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None
        try:
            await self._client.delete(self._keys.process_lease(self.process_id))
            returned = await self._reap(
                keys=[
                    self._keys.process_lease(self.process_id),
                    self._processing,
                    self._keys.processes,
                ],
                args=[self.process_id],
            )
            if returned:
                logger.info("returned %d held job(s) to their queues", returned)
        except Exception as error:
            logger.warning(
                "could not unregister process %s from Redis (%s); other processes return its "
                "jobs when its lease runs out",
                self.process_id,
                error,
            )

    async def push(self, job: job_pb2.Job, channel: str) -> None:
        keys, args = self._push_arguments(job, channel)
        async with self._health.guard(f"queue job {job.id.value}"):
            pushed = await self._push(keys=keys, args=args)
        if not pushed:
            raise _uniq_key_held(job)

    async def push_many(
        self, jobs: Sequence[tuple[job_pb2.Job, str]]
    ) -> list[AlreadyExistsError | None]:
        """Push every job in one MULTI/EXEC transaction: one round trip, all or none applied."""
        if not jobs:
            return []
        async with (
            self._health.guard(f"queue {len(jobs)} jobs"),
            self._client.pipeline(transaction=True) as pipeline,
        ):
            for job, channel in jobs:
                keys, args = self._push_arguments(job, channel)
                await self._push(keys=keys, args=args, client=pipeline)
            replies = await pipeline.execute()
        return [
            None if pushed else _uniq_key_held(job)
            for (job, _), pushed in zip(jobs, replies, strict=True)
        ]

    def _push_arguments(
        self, job: job_pb2.Job, channel: str
    ) -> tuple[list[str], list[bytes | str | int]]:
        keys = [
            self._keys.queue(_priority_of(job), channel),
            self._keys.wake(channel),
            self._keys.channels,
        ]
        if job.data.HasField("uniq_key"):
            keys.append(self._keys.uniq(job.data.uniq_key))
        return keys, [job.SerializeToString(), channel, job.id.value, MAX_WAKE_TOKENS]

    async def fetch(self, channel: str, max_jobs: int, timeout_s: float) -> list[QueuedJob]:
        """Take up to `max_jobs` jobs; block on the channel's wake list while it is empty.

        While Redis is unreachable this waits a backoff and returns no job,
        so the dispatcher's loop keeps going without a burst of errors.
        """
        try:
            taken = await self._pop(channel, max_jobs)
            if not taken:
                await self._client.blpop([self._keys.wake(channel)], timeout=timeout_s)
                taken = await self._pop(channel, max_jobs)
        except (QueueUnavailableError, OSError) as error:
            self._health.failed(error)
            await asyncio.sleep(self._health.backoff_s())
            return []
        except Exception as error:
            if not _is_connection_error(error):
                raise
            self._health.failed(error)
            await asyncio.sleep(self._health.backoff_s())
            return []
        self._health.succeeded()
        return taken

    async def _pop(self, channel: str, max_jobs: int) -> list[QueuedJob]:
        reply = await self._fetch(
            keys=[
                *self._keys.queues(channel),
                self._processing,
                self._keys.wake(channel),
                self._keys.processing_sequence,
            ],
            args=[max_jobs],
        )
        taken: list[QueuedJob] = []
        for index in range(0, len(reply), 2):
            token = as_text(reply[index])
            job = job_pb2.Job.FromString(as_bytes(reply[index + 1]))
            taken.append(QueuedJob(job=job, channel=channel, lease=_Token(token)))
        return taken

    async def complete(self, queued: QueuedJob) -> None:
        job = queued.job
        keys = [self._processing]
        if job.data.HasField("uniq_key"):
            keys.append(self._keys.uniq(job.data.uniq_key))
        args: list[str | int] = [_token_of(queued), job.id.value]
        async with self._health.guard(f"complete job {job.id.value}"):
            await self._batcher.execute(
                lambda pipeline: self._complete(keys=keys, args=args, client=pipeline)
            )

    async def put_back(self, queued: QueuedJob) -> None:
        await self._return_job(queued, queued.job, head=True)

    async def requeue(self, queued: QueuedJob, job: job_pb2.Job) -> None:
        """Replace a fetched job by its next attempt at the tail of its queue, atomically."""
        await self._return_job(queued, job, head=False)

    async def _return_job(self, queued: QueuedJob, job: job_pb2.Job, *, head: bool) -> None:
        keys = [
            self._processing,
            self._keys.queue(_priority_of(job), queued.channel),
            self._keys.wake(queued.channel),
        ]
        async with self._health.guard(f"return job {job.id.value} to its queue"):
            returned = await self._return(
                keys=keys,
                args=[
                    _token_of(queued),
                    job.SerializeToString(),
                    "head" if head else "tail",
                    MAX_WAKE_TOKENS,
                ],
            )
        if not returned:
            logger.warning(
                "job %d was no longer held by this process (its lease ran out and another "
                "process returned it to the queue); it runs again from there",
                job.id.value,
            )

    async def remove(self, job_id: int) -> job_pb2.Job | None:
        async with self._health.guard(f"cancel queued job {job_id}"):
            channels = await self._client.smembers(self._keys.channels)
            for raw_channel in channels:
                for key in self._keys.queues(as_text(raw_channel)):
                    for encoded in await self._client.lrange(key, 0, -1):
                        job = job_pb2.Job.FromString(as_bytes(encoded))
                        if job.id.value != job_id:
                            continue
                        keys = [key]
                        if job.data.HasField("uniq_key"):
                            keys.append(self._keys.uniq(job.data.uniq_key))
                        if await self._remove(keys=keys, args=[encoded, job_id]):
                            return job
        return None

    async def list_queued(self, channel: str, limit: int | None) -> list[job_pb2.Job]:
        jobs: list[job_pb2.Job] = []
        async with self._health.guard(f"list queued jobs of channel {channel!r}"):
            for key in self._keys.queues(channel):
                remaining = -1 if limit is None else limit - len(jobs) - 1
                if limit is not None and remaining < 0:
                    break
                encoded_jobs = await self._client.lrange(key, 0, remaining)
                jobs.extend(job_pb2.Job.FromString(as_bytes(encoded)) for encoded in encoded_jobs)
        return jobs

    async def queued_count(self, channel: str) -> int:
        action = f"count queued jobs of channel {channel!r}"
        async with self._health.guard(action), self._client.pipeline(transaction=False) as pipe:
            for key in self._keys.queues(channel):
                pipe.llen(key)
            lengths = await pipe.execute()
        return int(sum(lengths))

    async def advertise_channels(self, channels: dict[str, int]) -> None:
        """Store the channels in this process's lease value, so they vanish with the lease."""
        self._advertised = json.dumps(channels, sort_keys=True)
        if self._heartbeat is not None:
            async with self._health.guard("advertise the channels of this process"):
                await self._renew(
                    keys=[self._keys.process_lease(self.process_id), self._keys.processes],
                    args=[self.process_id, self._lease_ms, self._advertised],
                )

    async def served_channels(self) -> dict[str, int]:
        async with self._health.guard("list the channels of live processes"):
            processes = [as_text(raw) for raw in await self._client.smembers(self._keys.processes)]
            if not processes:
                return {}
            values = await self._client.mget(
                [self._keys.process_lease(process_id) for process_id in processes]
            )
        totals: dict[str, int] = {}
        for value in values:
            if value is None:
                continue
            try:
                channels = json.loads(as_text(value))
            except ValueError:
                # A lease written by an older version holds "1" rather than JSON.
                continue
            if not isinstance(channels, dict):
                continue
            for name, concurrency in channels.items():
                totals[str(name)] = totals.get(str(name), 0) + int(concurrency)
        return totals

    async def queued_ids(self) -> set[int]:
        """Return ids of jobs in every queue list and in every process's processing hash."""
        ids: set[int] = set()
        async with self._health.guard("list queued job ids"):
            for raw_channel in await self._client.smembers(self._keys.channels):
                for key in self._keys.queues(as_text(raw_channel)):
                    for encoded in await self._client.lrange(key, 0, -1):
                        ids.add(job_pb2.Job.FromString(as_bytes(encoded)).id.value)
            for raw_process in await self._client.smembers(self._keys.processes):
                held = await self._client.hvals(self._keys.processing(as_text(raw_process)))
                for value in held:
                    ids.add(job_pb2.Job.FromString(as_bytes(value).split(b"\n", 2)[2]).id.value)
        return ids

    async def _keep_lease(self) -> None:
        """Renew this process's lease every third of its length and reap dead processes."""
        lease_key = self._keys.process_lease(self.process_id)
        while True:
            await asyncio.sleep(self._lease_ms / 3000)
            try:
                renewed = await self._renew(
                    keys=[lease_key, self._keys.processes],
                    args=[self.process_id, self._lease_ms, self._advertised],
                )
                if not renewed:
                    logger.warning(
                        "the Redis lease of process %s had expired (Redis restarted, or this "
                        "process was cut off longer than %d ms); registered again. Jobs it held "
                        "may have been returned to their queues and may run twice",
                        self.process_id,
                        self._lease_ms,
                    )
                await self.reap_dead_processes()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self._health.failed(error)
                continue
            self._health.succeeded()

    async def reap_dead_processes(self) -> int:
        """Return the jobs of processes whose lease expired to their queues; count them."""
        processes = [as_text(raw) for raw in await self._client.smembers(self._keys.processes)]
        returned = 0
        for process_id in processes:
            if process_id == self.process_id:
                continue
            count = int(
                await self._reap(
                    keys=[
                        self._keys.process_lease(process_id),
                        self._keys.processing(process_id),
                        self._keys.processes,
                    ],
                    args=[process_id],
                )
            )
            if count >= 0:
                logger.warning(
                    "process %s stopped renewing its lease; returned its %d job(s) to their queues",
                    process_id,
                    count,
                )
                returned += count
        return returned


class RedisJobStatusMap(JobStatusMap):
    """Job statuses in the jobworkerp `JOB_STATUS` hash (job id -> JobStatus number)."""

    def __init__(
        self,
        client: Redis,
        keys: RedisKeys,
        health: RedisHealth,
        *,
        batcher: CommandBatcher | None = None,
    ) -> None:
        self._client = client
        self._key = keys.job_status
        self._health = health
        self._batcher = batcher or CommandBatcher(client)

    async def set(self, job_id: int, status: int) -> None:
        async with self._health.guard(f"set status of job {job_id}"):
            await self._batcher.execute(
                lambda pipeline: pipeline.hset(self._key, str(job_id), str(status))
            )

    async def set_many(self, job_ids: Sequence[int], status: int) -> None:
        if not job_ids:
            return
        async with self._health.guard(f"set status of {len(job_ids)} jobs"):
            await self._client.hset(
                self._key, mapping={str(job_id): str(status) for job_id in job_ids}
            )

    async def get(self, job_id: int) -> int | None:
        async with self._health.guard(f"read status of job {job_id}"):
            value = await self._client.hget(self._key, str(job_id))
        return int(value) if value is not None else None

    async def delete(self, job_id: int) -> None:
        async with self._health.guard(f"delete status of job {job_id}"):
            await self._batcher.execute(lambda pipeline: pipeline.hdel(self._key, str(job_id)))

    async def find_all(self) -> dict[int, int]:
        async with self._health.guard("list job statuses"):
            entries = await self._client.hgetall(self._key)
        return {int(job_id): int(status) for job_id, status in entries.items()}


def _uniq_key_held(job: job_pb2.Job) -> AlreadyExistsError:
    return AlreadyExistsError(
        f"a pending job with uniq_key {job.data.uniq_key!r} is already queued; wait for it "
        "to finish, delete it, or use another key"
    )


def _priority_of(job: job_pb2.Job) -> int:
    # Unknown priority values run at MEDIUM rather than being lost.
    priority = job.data.priority
    return priority if priority in PRIORITIES else common_pb2.PRIORITY_MEDIUM


def _token_of(queued: QueuedJob) -> str:
    token = queued.lease
    if not isinstance(token, _Token):
        raise TypeError(f"job {queued.job.id.value} was not fetched from a Redis queue")
    return token.field


def _is_connection_error(error: BaseException) -> bool:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return isinstance(error, RedisConnectionError | RedisTimeoutError)
