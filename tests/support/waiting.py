"""Waiting on conditions instead of sleeping a fixed time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

POLL_INTERVAL_S = 0.02


async def eventually(
    check: Callable[[], Awaitable[T]], *, timeout_s: float = 10, message: str = "condition"
) -> T:
    """Call `check` until it returns a truthy value and return it; fail after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} not met within {timeout_s} s (last value {value!r})")
        await asyncio.sleep(POLL_INTERVAL_S)


def eventually_sync(
    check: Callable[[], T], *, timeout_s: float = 10, message: str = "condition"
) -> T:
    """Synchronous `eventually`, for tests driving a server in another thread or process."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} not met within {timeout_s} s (last value {value!r})")
        time.sleep(POLL_INTERVAL_S)
