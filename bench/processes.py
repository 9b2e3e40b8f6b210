"""Child processes of a benchmark run: `jwp serve` and the peers' workers.

Every process started here is stopped (SIGTERM, then SIGKILL after a
grace) when its context exits, so an interrupted run leaves none behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import grpc

REPO_ROOT = Path(__file__).resolve().parent.parent
STOP_GRACE_S = 15


class Child:
    """One child process whose output goes to a log file."""

    def __init__(self, name: str, argv: Sequence[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), **env}
        self.log = log
        self.process: asyncio.subprocess.Process | None = None
        self.stop_signal = signal.SIGTERM

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} has not started"
        return self.process.pid

    async def start(self) -> None:
        with self.log.open("wb") as output:
            self.process = await asyncio.create_subprocess_exec(
                *self.argv,
                cwd=REPO_ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def exited(self) -> bool:
        return self.process is None or self.process.returncode is not None

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(self.stop_signal)
        try:
            await asyncio.wait_for(self.process.wait(), STOP_GRACE_S)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

    def tail(self, lines: int = 20) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


@contextlib.asynccontextmanager
async def children(*items: Child) -> AsyncIterator[tuple[Child, ...]]:
    """Start the processes and stop them all, in reverse order, on exit."""
    started: list[Child] = []
    try:
        for child in items:
            await child.start()
            started.append(child)
        yield items
    finally:
        for child in reversed(started):
            await child.stop()


def free_port() -> int:
    """Return a loopback port that is free now (another process may take it later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_serving(child: Child, address: str, timeout_s: float = 60) -> None:
    """Wait until the child's gRPC health service reports SERVING at `address`."""
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    deadline = asyncio.get_running_loop().time() + timeout_s
    async with grpc.aio.insecure_channel(address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        while asyncio.get_running_loop().time() < deadline:
            if child.exited():
                break
            with contextlib.suppress(grpc.aio.AioRpcError):
                reply = await health.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{child.name} did not start; its log ends with:\n{child.tail()}")


def jwp_serve(name: str, address: str, env: dict[str, str], log: Path, *args: str) -> Child:
    """Return a `jwp serve` child listening on `address` that logs warnings and errors only.

    INFO would add two log lines per job (start and finish), which the
    peers, started with their log level at WARNING, do not write.
    """
    settings = {"GRPC_ADDR": address, "LOG_USE_STDOUT": "true", "LOG_LEVEL": "WARNING"}
    return Child(name, [sys.executable, "-m", "jwp", "serve", *args], {**settings, **env}, log)


def py_spy(target: Child, output: Path) -> Child:
    """Return a `py-spy record` child that samples `target` into `output` (collapsed stacks).

    py-spy writes its file on SIGINT, so that is the signal that stops it.
    """
    argv = [
        str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(target.pid),
        "--format", "raw", "--rate", "250", "--output", str(output),
    ]  # fmt: skip
    spy = Child(f"py-spy of {target.name}", argv, {}, output.with_suffix(".log"))
    spy.stop_signal = signal.SIGINT
    return spy
