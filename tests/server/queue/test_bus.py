"""ResultBus behaviour, the same over memory and Redis; Redis nodes act as separate processes."""

from __future__ import annotations

import asyncio

import pytest

from jwp.errors import WaitTimeoutError
from jwp.proto.jobworkerp.data import common_pb2, job_pb2, job_result_pb2, worker_pb2
from tests.server.queue.conftest import NodeFactory


def make_result(job_id: int, worker_id: int = 3, result_id: int = 1) -> job_result_pb2.JobResult:
    return job_result_pb2.JobResult(
        id=job_result_pb2.JobResultId(value=result_id),
        data=job_result_pb2.JobResultData(
            job_id=job_pb2.JobId(value=job_id),
            worker_id=worker_pb2.WorkerId(value=worker_id),
            status=common_pb2.SUCCESS,
            output=common_pb2.ResultOutput(items=b"out"),
        ),
    )


async def test_direct_result_reaches_waiter_on_other_node(nodes: NodeFactory) -> None:
    front, worker = await nodes(), await nodes()
    result = make_result(11)
    async with front.bus.expect_direct(11) as subscription:
        waiting = asyncio.create_task(subscription.get(5))
        await asyncio.sleep(0.1)
        await worker.bus.send_direct(result)
        assert await asyncio.wait_for(waiting, 5) == result


async def test_direct_result_sent_before_wait_is_kept(nodes: NodeFactory) -> None:
    front, worker = await nodes(), await nodes()
    result = make_result(12)
    async with front.bus.expect_direct(12) as subscription:
        await worker.bus.send_direct(result)
        assert await subscription.get(5) == result


async def test_direct_wait_times_out(nodes: NodeFactory) -> None:
    front = await nodes()
    async with front.bus.expect_direct(13) as subscription:
        with pytest.raises(WaitTimeoutError):
            await subscription.get(0.3)


async def test_many_listeners_get_same_result(nodes: NodeFactory) -> None:
    fronts = [await nodes(), await nodes()]
    worker = await nodes()
    result = make_result(21)
    async with (
        fronts[0].bus.listen_job(21) as first,
        fronts[1].bus.listen_job(21) as second,
        fronts[1].bus.listen_job(21) as third,
    ):
        await worker.bus.publish(result, remember=False)
        received = [await subscription.get(5) for subscription in (first, second, third)]
    assert received == [result, result, result]


async def test_listen_worker_gets_each_result(nodes: NodeFactory) -> None:
    front, worker = await nodes(), await nodes()
    async with front.bus.listen_worker(3) as subscription:
        for job_id in (31, 32, 33):
            await worker.bus.publish(make_result(job_id), remember=False)
        await worker.bus.publish(make_result(34, worker_id=4), remember=False)
        received = [await subscription.get(5) for _ in range(3)]
        with pytest.raises(WaitTimeoutError):
            await subscription.get(0.3)
    assert [result.data.job_id.value for result in received] == [31, 32, 33]


async def test_remembered_result_found_later(nodes: NodeFactory) -> None:
    front, worker = await nodes(), await nodes()
    await worker.bus.publish(make_result(41), remember=True)
    await worker.bus.publish(make_result(42), remember=False)

    assert await front.bus.find_latest(41) == make_result(41)
    assert await front.bus.find_latest(42) is None


async def test_stream_items_until_end(nodes: NodeFactory) -> None:
    front, worker = await nodes(), await nodes()
    chunks = [b"a", b"", b"c"]
    async with front.bus.listen_stream(51) as stream:
        for chunk in chunks:
            await worker.bus.publish_stream(51, common_pb2.ResultOutputItem(data=chunk))
        await worker.bus.publish_stream(51, common_pb2.ResultOutputItem(end=common_pb2.Trailer()))
        items = [item async for item in stream]
    assert [item.data for item in items[:-1]] == chunks
    assert items[-1].HasField("end")


async def test_subscriptions_end_cleanly_and_reopen(nodes: NodeFactory) -> None:
    front, worker = await nodes(), await nodes()
    for _ in range(3):
        async with front.bus.listen_job(61) as subscription:
            await worker.bus.publish(make_result(61), remember=False)
            assert (await subscription.get(5)).data.job_id.value == 61
