"""Fixtures of the dashboard tests: a `jwp serve` process, so the app owns the test's loop.

The server runs as operators run it, in its own process, so it shares no
event loop and no grpc state with the app, and a test can stop and
restart it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest

from tests.conftest import Stubs
from tests.support.servers import ServerProcess

SERVER_ENV = {
    "WORKER_CHANNELS": "slow",
    "WORKER_CHANNEL_CONCURRENCIES": "1",
    "JWP_SHUTDOWN_GRACE_MS": "0",
    "JWP_KILL_GRACE_MS": "500",
}
"""The default channel, and a channel `slow` that runs one job at a time."""


@pytest.fixture
def tui_server(tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path, dict(SERVER_ENV))
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
async def tui_stubs(tui_server: ServerProcess) -> AsyncIterator[Stubs]:
    """Stubs in the test's loop, for setting up data while the app runs."""
    channel = grpc.aio.insecure_channel(tui_server.address)
    try:
        yield Stubs.over(channel)
    finally:
        await channel.close()
