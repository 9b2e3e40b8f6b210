"""The floor of COMMAND jobs: `true` run by a bare asyncio subprocess loop."""

from __future__ import annotations

import asyncio
import time

from .jwp_client import Throughput, run_in_window


async def run_true(count: int, concurrency: int) -> Throughput:
    """Run `true` `count` times, `concurrency` at a time, and wait for each exit code."""

    async def run(_: int) -> None:
        process = await asyncio.create_subprocess_exec(
            "true", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        await process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"`true` exited with {process.returncode}")

    started = time.perf_counter()
    await run_in_window(count, concurrency, run)
    return Throughput(count, time.perf_counter() - started)
