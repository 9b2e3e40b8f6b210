"""Real jwp servers for tests: in the test's event loop, in a thread, or as a subprocess.

Every server listens on a free loopback port and keeps its SQLite file in
the test's temporary folder, so tests never share state.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc

from jwp.config import Settings
from jwp.server.app import JwpServer


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for a test server: loopback port 0, a SQLite file under `tmp_path`, no .env."""
    values: dict[str, Any] = {
        "grpc_addr": "127.0.0.1:0",
        "sqlite_url": f"sqlite://{tmp_path / 'jwp-test.sqlite3'}",
        "jwp_shutdown_grace_ms": 5000,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@contextlib.asynccontextmanager
async def running_server(settings: Settings) -> AsyncIterator[JwpServer]:
    """Run a server in the current event loop for the duration of the block."""
    server = JwpServer(settings)
    await server.start()
    await server.mark_serving()
    try:
        yield server
    finally:
        await server.stop(grace_s=5)


class ThreadedServer:
    """A server in its own thread and event loop, for synchronous clients such as the CLI."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.server = JwpServer(settings)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.address = ""

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=30)
        self.address = f"127.0.0.1:{self.server.port}"

    async def _start(self) -> None:
        await self.server.start()
        await self.server.mark_serving()

    def call(self, coroutine: Any, timeout: float = 30) -> Any:
        """Run a coroutine in the server's loop (to reach its components); return its value."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=timeout)

    def stop(self) -> None:
        try:
            asyncio.run_coroutine_threadsafe(self.server.stop(grace_s=5), self._loop).result(
                timeout=60
            )
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=30)
            self._loop.close()


@contextlib.contextmanager
def threaded_server(settings: Settings) -> Iterator[ThreadedServer]:
    server = ThreadedServer(settings)
    server.start()
    try:
        yield server
    finally:
        server.stop()


STARTUP_LINE = re.compile(r"jwp serving on \S+ \(port (\d+)\)")


class ServerProcess:
    """`jwp serve` as a real subprocess, for start-up, signal and restart tests."""

    def __init__(self, workdir: Path, env: dict[str, str], args: tuple[str, ...] = ()) -> None:
        self.workdir = workdir
        self.env = env
        self.args = args
        """Extra arguments of `jwp serve`, e.g. ("--role", "worker")."""
        self.process: subprocess.Popen[str] | None = None
        self.port: int | None = None
        self.output: list[str] = []

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 30) -> None:
        """Start the process and wait for its start-up line."""
        env = {**os.environ, **self.env}
        env.setdefault("GRPC_ADDR", "127.0.0.1:0")
        env.setdefault("LOG_USE_STDOUT", "true")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jwp", "serve", *self.args],
            cwd=self.workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._started = threading.Event()
        self._reader.start()
        if not self._started.wait(timeout_s):
            self.kill()
            raise AssertionError("jwp serve did not start:\n" + "".join(self.output))

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            match = STARTUP_LINE.search(line)
            if match and self.port is None:
                self.port = int(match.group(1))
                self._started.set()

    def signal(self, signal_number: int) -> None:
        assert self.process is not None
        self.process.send_signal(signal_number)

    def wait(self, timeout_s: float = 60) -> int:
        """Wait for the process to exit, collect the rest of its output, and return its code."""
        assert self.process is not None
        code = self.process.wait(timeout_s)
        self._reader.join(timeout_s)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return code

    def stop(self) -> int:
        """SIGTERM the process and wait for it to exit."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.signal(signal.SIGTERM)
        return self.wait()

    def kill(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.kill()
        self.wait(30)

    def text(self) -> str:
        return "".join(self.output)


async def wait_channel_ready(address: str, timeout_s: float = 10) -> grpc.aio.Channel:
    channel = grpc.aio.insecure_channel(address)
    await asyncio.wait_for(channel.channel_ready(), timeout_s)
    return channel
