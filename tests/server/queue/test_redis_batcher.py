"""CommandBatcher against the real Redis: shared pipelines, per-caller replies and errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from jwp.server.queue.redis_batcher import CommandBatcher
from tests.support.backends import REDIS_URL, delete_redis_keys, require_services, unique_name


@pytest.fixture
async def client() -> AsyncIterator[Any]:
    require_services()
    import redis.asyncio

    connection = redis.asyncio.Redis.from_url(REDIS_URL)
    yield connection
    await connection.aclose()


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    name = f"{unique_name()}:"
    yield name
    await delete_redis_keys(name)


async def test_concurrent_callers_get_own_replies(client: Any, prefix: str) -> None:
    batcher = CommandBatcher(client)

    async def increment(key: str, times: int) -> list[int]:
        replies = []
        for _ in range(times):
            (reply,) = await batcher.execute(lambda pipe: pipe.incr(f"{prefix}{key}"))
            replies.append(reply)
        return replies

    results = await asyncio.gather(*(increment(f"counter-{n}", 5) for n in range(20)))

    for replies in results:
        assert replies == [1, 2, 3, 4, 5]


async def test_commands_of_one_call_in_order(client: Any, prefix: str) -> None:
    batcher = CommandBatcher(client)
    key = f"{prefix}list"

    replies = await batcher.execute(
        lambda pipe: pipe.rpush(key, "a"),
        lambda pipe: pipe.rpush(key, "b"),
        lambda pipe: pipe.lrange(key, 0, -1),
    )

    assert replies == [1, 2, [b"a", b"b"]]


async def test_error_reply_fails_only_its_caller(client: Any, prefix: str) -> None:
    import redis.exceptions

    batcher = CommandBatcher(client)
    text_key = f"{prefix}text"
    await client.set(text_key, "not a number")

    failing = batcher.execute(lambda pipe: pipe.incr(text_key))
    passing = batcher.execute(lambda pipe: pipe.incr(f"{prefix}number"))
    outcomes = await asyncio.gather(failing, passing, return_exceptions=True)

    assert isinstance(outcomes[0], redis.exceptions.ResponseError)
    assert outcomes[1] == [1]


async def test_cancelled_pipeline_releases_callers(client: Any, prefix: str) -> None:
    batcher = CommandBatcher(client)
    caller = asyncio.ensure_future(batcher.execute(lambda pipe: pipe.incr(f"{prefix}n")))
    await asyncio.sleep(0)

    def cancel_pipelines() -> None:
        for task in list(batcher._sending):
            task.cancel()

    # Runs after the callback that creates the pipeline task, before its first step.
    asyncio.get_running_loop().call_soon(cancel_pipelines)

    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(caller, 5)
