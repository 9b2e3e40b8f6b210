"""Real `jwp serve` processes of one Scalable deployment over Redis and MariaDB.

Each test gets its own database and Redis key prefix (see
`tests.support.backends`), and every process it starts is stopped after it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from tests.conftest import Stubs
from tests.support.backends import MYSQL_URL, REDIS_URL, scalable_services
from tests.support.servers import ServerProcess

# Lease of every process in these tests, in ms: short, so that the jobs of
# a killed process return within seconds, but long enough that a live
# process starved of CPU by a loaded machine still renews it in time
# (1.5 s was not, under a load average of 7 on 2 cores).
TEST_LEASE_MS = 4000


class Cluster:
    """Starts fronts and workers that share one database and one Redis key prefix."""

    def __init__(self, tmp_path: Path, settings: dict[str, object]) -> None:
        self.tmp_path = tmp_path
        self.env = {
            "STORAGE_TYPE": "Scalable",
            "MYSQL_URL": str(settings["mysql_url"]),
            "REDIS_URL": str(settings["redis_url"]),
            "JWP_REDIS_KEY_PREFIX": str(settings["jwp_redis_key_prefix"]),
            "JWP_LEASE_MS": str(TEST_LEASE_MS),
            "JWP_SHUTDOWN_GRACE_MS": "3000",
            "GRPC_ADDR": "127.0.0.1:0",
            "LOG_LEVEL": "INFO",
        }
        self.processes: list[ServerProcess] = []
        self._channels: list[grpc.aio.Channel] = []

    async def start(self, role: str, **env: str) -> ServerProcess:
        """Start `jwp serve --role ROLE` with extra env vars and wait for its start-up line."""
        workdir = self.tmp_path / f"{role}-{len(self.processes)}"
        workdir.mkdir()
        process = ServerProcess(workdir, {**self.env, **env}, ("--role", role))
        self.processes.append(process)
        await asyncio.to_thread(process.start, 60)
        return process

    async def stubs(self, process: ServerProcess) -> Stubs:
        channel = grpc.aio.insecure_channel(process.address)
        self._channels.append(channel)
        await asyncio.wait_for(channel.channel_ready(), 10)
        return Stubs.over(channel)

    async def close(self) -> None:
        for channel in self._channels:
            await channel.close()
        for process in self.processes:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(process.stop)


@contextlib.asynccontextmanager
async def running_cluster(
    tmp_path: Path, redis_url: str = REDIS_URL, mysql_server_url: str = MYSQL_URL
) -> AsyncIterator[Cluster]:
    """Yield a Cluster on a fresh database and key prefix; stop its processes afterwards.

    The defaults are the shared services; a test that stops one passes the
    URL of its private instance.
    """
    async with scalable_services(redis_url, mysql_server_url) as settings:
        running = Cluster(tmp_path, settings)
        try:
            yield running
        finally:
            await running.close()


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    async with running_cluster(tmp_path) as running:
        yield running
