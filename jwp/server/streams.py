"""Following a job's streamed output: its chunks, the end trailer, then its final result.

A streaming job publishes each chunk as a `ResultOutputItem` with `data`,
then one with `end`, and only then its final result. The dispatcher keeps
that order in every case that records a result (success, failure, timeout,
cancel; see `JobExecutor._end_stream` and `JobRecorder.cancel_pending`),
and a run that will be retried publishes no trailer, so the chunks of the
next attempt follow. A follower therefore reads chunks up to the trailer
and then takes the result, and loses no chunk even when the result
arrives first.

A job that did not stream (its result has `request_streaming` false)
yields a single empty item, so a listener always gets at least one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Collection
from typing import Any

from jwp.errors import WaitTimeoutError
from jwp.proto.jobworkerp.data import common_pb2, job_result_pb2
from jwp.server.queue import StreamSubscription, Subscription


class OutputStream:
    """The output of one job as a streaming caller receives it.

    Iterate `items()` to the end; `result` is then the job's final result.

    Args:
        job_id: The job followed.
        chunks: Subscription to the job's output chunks, opened before the job
            could start.
        results: Subscription that receives the job's final result.
        wait_s: Limit for the whole wait, in s; past it `items()` raises
            WaitTimeoutError.
        finished: The final result when the job had already finished.
    """

    def __init__(
        self,
        job_id: int,
        chunks: StreamSubscription,
        results: Subscription,
        wait_s: float,
        finished: job_result_pb2.JobResult | None = None,
    ) -> None:
        self.job_id = job_id
        self._chunks = chunks
        self._results = results
        self._wait_s = wait_s
        self.result = finished

    async def items(self) -> AsyncIterator[common_pb2.ResultOutputItem]:
        """Yield the output chunks and the end trailer, then set `result`.

        Raises:
            WaitTimeoutError: The job did not finish within the wait limit.
        """
        if self.result is not None:
            yield common_pb2.ResultOutputItem()
            return

        deadline = asyncio.get_running_loop().time() + self._wait_s
        chunk_iterator = aiter(self._chunks)
        next_chunk = asyncio.create_task(_next(chunk_iterator))
        next_result = asyncio.create_task(self._final_result())
        try:
            while True:
                waiting = {next_chunk} if next_result.done() else {next_chunk, next_result}
                await self._wait_first(waiting, deadline)
                if next_chunk.done():
                    item = next_chunk.result()
                    yield item
                    if item.HasField("end"):
                        break
                    next_chunk = asyncio.create_task(_next(chunk_iterator))
                elif not next_result.result().data.request_streaming:
                    yield common_pb2.ResultOutputItem()
                    break
                # Otherwise the result came first, and its trailer is on the way.
            await self._wait_first({next_result}, deadline)
            self.result = next_result.result()
        finally:
            for task in (next_chunk, next_result):
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(next_chunk, next_result, return_exceptions=True)

    async def _final_result(self) -> job_result_pb2.JobResult:
        while True:
            result = await self._results.get(None)
            if result.data.status != common_pb2.ERROR_AND_RETRY:
                return result

    async def _wait_first(self, tasks: Collection[asyncio.Task[Any]], deadline: float) -> None:
        remaining = deadline - asyncio.get_running_loop().time()
        done: set[asyncio.Task[Any]] = set()
        if remaining > 0:
            done, _ = await asyncio.wait(
                tasks, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
            )
        if not done:
            raise WaitTimeoutError(
                f"job {self.job_id} did not finish within {self._wait_s * 1000:.0f} ms; its "
                "result, if stored, can be read later with `jwp job-result list-by-job-id`"
            )


async def _next(
    iterator: AsyncIterator[common_pb2.ResultOutputItem],
) -> common_pb2.ResultOutputItem:
    return await anext(iterator)
