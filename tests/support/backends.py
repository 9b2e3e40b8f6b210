"""The storage and queue backends a test server runs on: Standalone or Scalable.

`standalone` is the in-process queue with SQLite. `scalable` is Redis with
MariaDB/MySQL: each test gets its own database `jwp_test_<random>` and its
own Redis key prefix, both removed afterwards, because the services are
shared with other test runs. When a service is unreachable the test is
skipped, except under CI (the `CI` environment variable is set), where it
fails.

The services are found at JWP_TEST_REDIS_URL (default redis://127.0.0.1:6379)
and JWP_TEST_MYSQL_URL (default mysql://root@127.0.0.1:3306, a user allowed to
create and drop databases).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import urllib.parse
from collections.abc import AsyncIterator
from typing import Any

import pytest

BACKENDS = ["standalone", "scalable"]
"""Parameters of the `backend` fixture."""

REDIS_URL = os.environ.get("JWP_TEST_REDIS_URL", "redis://127.0.0.1:6379")
MYSQL_URL = os.environ.get("JWP_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306")


def _reachable(url: str, default_port: int) -> bool:
    parts = urllib.parse.urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 2
        ):
            return True
    except OSError:
        return False


def require_services(redis_url: str = REDIS_URL, mysql_url: str = MYSQL_URL) -> None:
    """Skip the test when Redis or MariaDB is unreachable, or fail it under CI."""
    missing = [
        f"{name} at {url}"
        for name, url, port in (("Redis", redis_url, 6379), ("MariaDB", mysql_url, 3306))
        if not _reachable(url, port)
    ]
    if not missing:
        return
    reason = f"Scalable backend needs {' and '.join(missing)}, which is unreachable"
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this is an error)")
    pytest.skip(reason)


def unique_name() -> str:
    return f"jwp_test_{secrets.token_hex(6)}"


async def create_database(name: str, server_url: str = MYSQL_URL) -> str:
    """Create a MariaDB database on the server at `server_url` and return a MYSQL_URL for it."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    admin = create_async_engine(_sqlalchemy_url(server_url))
    try:
        async with admin.begin() as connection:
            await connection.execute(text(f"CREATE DATABASE `{name}`"))
    finally:
        await admin.dispose()
    return f"{server_url.rstrip('/')}/{name}"


async def drop_database(name: str, server_url: str = MYSQL_URL) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    admin = create_async_engine(_sqlalchemy_url(server_url))
    try:
        async with admin.begin() as connection:
            await connection.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
    finally:
        await admin.dispose()


async def delete_redis_keys(prefix: str, redis_url: str = REDIS_URL) -> int:
    """Delete every Redis key under `prefix`; never touches other keys."""
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(redis_url)
    deleted = 0
    try:
        batch: list[bytes] = []
        async for key in client.scan_iter(match=f"{prefix}*", count=1000):
            batch.append(key)
            if len(batch) >= 500:
                deleted += await client.delete(*batch)
                batch = []
        if batch:
            deleted += await client.delete(*batch)
    finally:
        await client.aclose()
    return deleted


def _sqlalchemy_url(url: str) -> str:
    return "mysql+asyncmy://" + url.split("://", 1)[1]


@contextlib.asynccontextmanager
async def scalable_services(
    redis_url: str = REDIS_URL, mysql_server_url: str = MYSQL_URL
) -> AsyncIterator[dict[str, Any]]:
    """Yield settings overrides for a fresh database and Redis key prefix; remove both after.

    The defaults are the shared services; a test that stops a service
    passes the URLs of its private instances (`tests.support.private_services`).
    """
    require_services(redis_url, mysql_server_url)
    name = unique_name()
    mysql_url = await create_database(name, mysql_server_url)
    prefix = f"{name}:"
    try:
        yield {
            "storage_type": "Scalable",
            "mysql_url": mysql_url,
            "redis_url": redis_url,
            "jwp_redis_key_prefix": prefix,
        }
    finally:
        await delete_redis_keys(prefix, redis_url)
        await drop_database(name, mysql_server_url)
