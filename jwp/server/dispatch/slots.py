"""Concurrency slots of one channel."""

from __future__ import annotations

import asyncio


class SlotPool:
    """Counts the jobs a channel runs at once and never lets them exceed its concurrency.

    Two sources take slots (the queue fetch loop and the RDB poller), so
    each asks how many are free, fetches at most that many jobs, then takes
    one slot per job, waiting if the other source took one meanwhile.
    """

    def __init__(self, concurrency: int) -> None:
        if concurrency < 1:
            raise ValueError(f"channel concurrency {concurrency} must be 1 or more")
        self.concurrency = concurrency
        self._in_use = 0
        self._changed = asyncio.Condition()

    @property
    def free(self) -> int:
        return self.concurrency - self._in_use

    @property
    def in_use(self) -> int:
        return self._in_use

    async def wait_free(self) -> None:
        """Wait until at least one slot is free, without taking it."""
        async with self._changed:
            await self._changed.wait_for(lambda: self._in_use < self.concurrency)

    async def acquire(self) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self._in_use < self.concurrency)
            self._in_use += 1

    async def release(self) -> None:
        async with self._changed:
            self._in_use -= 1
            self._changed.notify_all()

    async def wait_idle(self) -> None:
        """Wait until no slot is in use."""
        async with self._changed:
            await self._changed.wait_for(lambda: self._in_use == 0)
