"""jwp deployments for a benchmark: Scalable (front + worker) and Standalone.

Scalable uses its own MariaDB database `jwp_bench_<random>` and its own
Redis key prefix in Redis database REDIS_DB; both are removed afterwards,
because the services may be shared with other users of the machine.
"""

from __future__ import annotations

import contextlib
import secrets
import urllib.parse
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from .processes import REPO_ROOT, Child, children, free_port, jwp_serve, py_spy, wait_serving
from .redis_keys import delete_keys

PLUGIN_DIR = REPO_ROOT / "bench" / "plugins"
COMMAND_CHANNEL = "bench-command"
COMMAND_CONCURRENCY = 4
NOOP_CONCURRENCY = 32
"""Jobs the worker process runs at once on the default channel. More slots give
the Redis pipelining of results more commands to send together."""


@dataclass(frozen=True)
class Services:
    """Addresses of the shared Redis and MariaDB servers."""

    redis_url: str
    mysql_url: str
    redis_db: int


@dataclass(frozen=True)
class Deployment:
    """A running jwp deployment: the address clients call."""

    mode: str
    address: str


def _common_env() -> dict[str, str]:
    return {
        "PLUGINS_RUNNER_DIR": str(PLUGIN_DIR),
        "WORKER_DEFAULT_CONCURRENCY": str(NOOP_CONCURRENCY),
        "WORKER_CHANNELS": COMMAND_CHANNEL,
        "WORKER_CHANNEL_CONCURRENCIES": str(COMMAND_CONCURRENCY),
        "JWP_SHUTDOWN_GRACE_MS": "3000",
    }


@contextlib.asynccontextmanager
async def profiled(profile_dir: Path | None, *targets: Child) -> AsyncIterator[None]:
    """Record each target with py-spy while the block runs, if `profile_dir` is set."""
    if profile_dir is None:
        yield
        return
    spies = [
        py_spy(target, profile_dir / f"{target.name.replace(' ', '-')}.txt") for target in targets
    ]
    async with children(*spies):
        yield


@contextlib.asynccontextmanager
async def standalone(
    folder: Path, extra_env: dict[str, str], profile_dir: Path | None = None
) -> AsyncIterator[Deployment]:
    """Run one `jwp serve` with SQLite and the in-process queue."""
    address = f"127.0.0.1:{free_port()}"
    env = {**_common_env(), "SQLITE_URL": f"sqlite://{folder / 'standalone.sqlite3'}", **extra_env}
    serve = jwp_serve("jwp standalone", address, env, folder / "standalone.log")
    async with children(serve):
        await wait_serving(serve, address)
        async with profiled(profile_dir, serve):
            yield Deployment("Standalone", address)


@contextlib.asynccontextmanager
async def scalable(
    folder: Path, services: Services, extra_env: dict[str, str], profile_dir: Path | None = None
) -> AsyncIterator[Deployment]:
    """Run one `jwp serve --role front` and one `--role worker` over Redis and MariaDB."""
    name = f"jwp_bench_{secrets.token_hex(4)}"
    prefix = f"{name}:"
    await _create_database(services.mysql_url, name)
    env = {
        **_common_env(),
        "STORAGE_TYPE": "Scalable",
        "REDIS_URL": f"{services.redis_url.rstrip('/')}/{services.redis_db}",
        "JWP_REDIS_KEY_PREFIX": prefix,
        "MYSQL_URL": f"{services.mysql_url.rstrip('/')}/{name}",
        **extra_env,
    }
    front_address = f"127.0.0.1:{free_port()}"
    worker_address = f"127.0.0.1:{free_port()}"
    front = jwp_serve("jwp front", front_address, env, folder / "front.log", "--role", "front")
    worker = jwp_serve("jwp worker", worker_address, env, folder / "worker.log", "--role", "worker")
    try:
        async with children(front, worker):
            await wait_serving(front, front_address)
            await wait_serving(worker, worker_address)
            async with profiled(profile_dir, front, worker):
                yield Deployment("Scalable", front_address)
    finally:
        await delete_keys(services.redis_url, services.redis_db, prefix)
        await _drop_database(services.mysql_url, name)


def _engine_url(mysql_url: str) -> str:
    parts = urllib.parse.urlsplit(mysql_url)
    return urllib.parse.urlunsplit(parts._replace(scheme="mysql+asyncmy", path="/"))


async def _execute(mysql_url: str, statement: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(_engine_url(mysql_url))
    try:
        async with engine.begin() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def _create_database(mysql_url: str, name: str) -> None:
    await _execute(mysql_url, f"CREATE DATABASE `{name}`")


async def _drop_database(mysql_url: str, name: str) -> None:
    await _execute(mysql_url, f"DROP DATABASE IF EXISTS `{name}`")


async def mariadb_version(mysql_url: str) -> str:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(_engine_url(mysql_url))
    try:
        async with engine.connect() as connection:
            return str((await connection.execute(text("SELECT VERSION()"))).scalar())
    except Exception as error:
        return f"unreachable ({type(error).__name__})"
    finally:
        await engine.dispose()
