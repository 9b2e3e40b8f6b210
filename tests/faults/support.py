"""Helpers of the fault tests: real `jwp serve` processes, their memory, their jobs."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import grpc

from jwp.proto.jobworkerp.data import job_pb2, job_result_pb2
from jwp.proto.jobworkerp.runner import command_args_pb2
from jwp.proto.jobworkerp.service import job_result_pb2 as result_service_pb2
from tests.conftest import Stubs
from tests.support.servers import ServerProcess


def command_args(command: str, *args: str) -> bytes:
    return command_args_pb2.CommandArgs(command=command, args=list(args)).SerializeToString()


def shell_args(script: str) -> bytes:
    return command_args("sh", "-c", script)


@contextlib.asynccontextmanager
async def serving(workdir: Path, env: dict[str, str]) -> AsyncIterator[tuple[ServerProcess, Stubs]]:
    """Start `jwp serve` in `workdir`, yield it with stubs, and make sure it ends."""
    process = ServerProcess(workdir, env)
    await asyncio.to_thread(process.start)
    channel = grpc.aio.insecure_channel(
        process.address, options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)]
    )
    try:
        await asyncio.wait_for(channel.channel_ready(), 10)
        yield process, Stubs.over(channel)
    finally:
        await channel.close()
        await asyncio.to_thread(process.kill)


def rss_kib(pid: int) -> int:
    """Return the resident set size of a process, in KiB, from /proc."""
    return _status_field(pid, "VmRSS")


def peak_rss_kib(pid: int) -> int:
    """Return the peak resident set size since the last `reset_peak_rss`, in KiB."""
    return _status_field(pid, "VmHWM")


def reset_peak_rss(pid: int) -> None:
    """Reset VmHWM to the current RSS (Linux: writing 5 to clear_refs)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def _status_field(pid: int, name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1])
    raise AssertionError(f"/proc/{pid}/status has no {name}")


async def results_of(stubs: Stubs, job_id: job_pb2.JobId) -> list[job_result_pb2.JobResult]:
    request = result_service_pb2.FindListByJobIdRequest(job_id=job_id)
    return [result async for result in stubs.results.FindListByJobId(request)]


def kill_process_groups(folder: Path) -> None:
    """SIGKILL the process groups whose leader pids jobs wrote to `folder/*.pid`.

    A SIGKILLed server cannot stop its jobs' processes, which run in their
    own process groups, so the test does.
    """
    for pid_file in folder.glob("*.pid"):
        with contextlib.suppress(ValueError, ProcessLookupError, PermissionError):
            os.killpg(int(pid_file.read_text().strip()), signal.SIGKILL)
