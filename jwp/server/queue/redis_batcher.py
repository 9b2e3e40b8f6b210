"""Automatic pipelining: the Redis commands tasks issue in one event-loop turn go out together.

When many jobs finish at once, each records its outcome with a few short
commands (status, completion, publish). Sent one by one, every command
costs a pool checkout, a socket write and a wake-up for its reply, which
cost more CPU than Redis spends on the command itself. A `CommandBatcher`
collects the commands issued until the event loop next runs its callbacks
and sends them as one pipeline without MULTI. Each caller still awaits
its own replies before it issues its next command, so the order of one
task's commands is kept. Commands of different tasks had no order before
either.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import Pipeline

Command = Callable[["Pipeline"], object]
"""Queues one command on a pipeline, e.g. `lambda pipe: pipe.hdel(key, field)`; a coroutine
(a Script called with `client=pipe`) is awaited."""


@dataclass
class _Request:
    commands: Sequence[Command]
    future: asyncio.Future[list[Any]] = field(repr=False)


class CommandBatcher:
    """Sends the commands of concurrent callers in shared pipelines."""

    def __init__(self, client: Redis) -> None:
        self._client = client
        self._pending: list[_Request] = []
        self._sending: set[asyncio.Task[None]] = set()

    async def execute(self, *commands: Command) -> list[Any]:
        """Queue the commands for the next pipeline and return their replies, in order.

        A command that Redis rejects raises its error here. A failed
        connection raises its error in every caller of that pipeline.
        """
        loop = asyncio.get_running_loop()
        request = _Request(commands, loop.create_future())
        if not self._pending:
            loop.call_soon(self._send_pending)
        self._pending.append(request)
        return await request.future

    def _send_pending(self) -> None:
        batch, self._pending = self._pending, []
        task = asyncio.create_task(self._send(batch), name="redis pipeline")
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)
        task.add_done_callback(functools.partial(_cancel_unanswered, batch))

    async def _send(self, batch: list[_Request]) -> None:
        try:
            async with self._client.pipeline(transaction=False) as pipeline:
                for request in batch:
                    for command in request.commands:
                        queued = command(pipeline)
                        if inspect.isawaitable(queued):
                            await queued
                replies = await pipeline.execute(raise_on_error=False)
        except BaseException as error:
            for request in batch:
                if not request.future.done():
                    request.future.set_exception(error)
            if isinstance(error, asyncio.CancelledError):
                raise
            return
        start = 0
        for request in batch:
            own = replies[start : start + len(request.commands)]
            start += len(request.commands)
            if request.future.done():
                continue
            failure = next((reply for reply in own if isinstance(reply, Exception)), None)
            if failure is not None:
                request.future.set_exception(failure)
            else:
                request.future.set_result(own)

    async def close(self) -> None:
        """Wait for the pipelines being sent."""
        if self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)


def _cancel_unanswered(batch: list[_Request], task: asyncio.Task[None]) -> None:
    """Cancel the callers a pipeline task left waiting.

    A task cancelled before its first step never enters `_send`, so
    without this its callers would wait forever.
    """
    for request in batch:
        if not request.future.done():
            request.future.cancel()
