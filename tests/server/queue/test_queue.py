"""JobQueue and JobStatusMap behaviour, the same over memory and Redis."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from jwp.errors import AlreadyExistsError
from jwp.proto.jobworkerp.data import common_pb2, job_pb2, worker_pb2
from tests.server.queue.conftest import NodeFactory
from tests.support.waiting import eventually

_ids = itertools.count(1000)


def make_job(
    priority: int = common_pb2.PRIORITY_MEDIUM, uniq_key: str | None = None
) -> job_pb2.Job:
    data = job_pb2.JobData(
        worker_id=worker_pb2.WorkerId(value=1), args=b"args", priority=priority, enqueue_time=1
    )
    if uniq_key is not None:
        data.uniq_key = uniq_key
    return job_pb2.Job(id=job_pb2.JobId(value=next(_ids)), data=data, metadata={"k": "v"})


def ids_of(jobs: list[job_pb2.Job]) -> list[int]:
    return [job.id.value for job in jobs]


async def test_fetch_takes_priority_then_fifo(nodes: NodeFactory) -> None:
    node = await nodes()
    low = make_job(common_pb2.PRIORITY_LOW)
    first = make_job()
    high = make_job(common_pb2.PRIORITY_HIGH)
    second = make_job()
    for job in (low, first, high, second):
        await node.queue.push(job, "ch")

    taken = await node.queue.fetch("ch", 10, 1)

    assert [queued.job.id.value for queued in taken] == ids_of([high, first, second, low])
    assert taken[0].job == high
    assert await node.queue.queued_count("ch") == 0


async def test_fetch_respects_max_jobs(nodes: NodeFactory) -> None:
    node = await nodes()
    jobs = [make_job() for _ in range(5)]
    for job in jobs:
        await node.queue.push(job, "ch")

    taken = await node.queue.fetch("ch", 2, 1)

    assert [queued.job.id.value for queued in taken] == ids_of(jobs[:2])
    assert ids_of(await node.queue.list_queued("ch", None)) == ids_of(jobs[2:])
    assert ids_of(await node.queue.list_queued("ch", 2)) == ids_of(jobs[2:4])


async def test_put_back_returns_to_head(nodes: NodeFactory) -> None:
    node = await nodes()
    jobs = [make_job() for _ in range(3)]
    for job in jobs:
        await node.queue.push(job, "ch")
    (taken,) = await node.queue.fetch("ch", 1, 1)

    await node.queue.put_back(taken)

    assert ids_of(await node.queue.list_queued("ch", None)) == ids_of(jobs)


async def test_requeue_replaces_job_at_tail(nodes: NodeFactory) -> None:
    node = await nodes()
    jobs = [make_job() for _ in range(2)]
    for job in jobs:
        await node.queue.push(job, "ch")
    (taken,) = await node.queue.fetch("ch", 1, 1)
    retry = job_pb2.Job()
    retry.CopyFrom(taken.job)
    retry.data.retried = 1

    await node.queue.requeue(taken, retry)

    queued = await node.queue.list_queued("ch", None)
    assert ids_of(queued) == [jobs[1].id.value, jobs[0].id.value]
    assert queued[1].data.retried == 1


async def test_remove_cancels_queued_job(nodes: NodeFactory) -> None:
    node = await nodes()
    keep, cancel = make_job(), make_job(uniq_key="remove-me")
    await node.queue.push(keep, "ch")
    await node.queue.push(cancel, "other")

    removed = await node.queue.remove(cancel.id.value)

    assert removed == cancel
    assert await node.queue.remove(cancel.id.value) is None
    assert ids_of(await node.queue.list_queued("ch", None)) == [keep.id.value]
    assert await node.queue.queued_count("other") == 0
    await node.queue.push(make_job(uniq_key="remove-me"), "other")


async def test_uniq_key_rejected_until_complete(nodes: NodeFactory) -> None:
    node = await nodes()
    await node.queue.push(make_job(uniq_key="once"), "ch")

    with pytest.raises(AlreadyExistsError) as caught:
        await node.queue.push(make_job(uniq_key="once"), "ch")
    assert "once" in str(caught.value)

    (taken,) = await node.queue.fetch("ch", 1, 1)
    with pytest.raises(AlreadyExistsError):
        await node.queue.push(make_job(uniq_key="once"), "ch")
    await node.queue.complete(taken)
    await node.queue.push(make_job(uniq_key="once"), "ch")
    assert await node.queue.queued_count("ch") == 1


async def test_queued_ids_include_fetched_jobs(nodes: NodeFactory) -> None:
    node = await nodes()
    jobs = [make_job() for _ in range(3)]
    for job in jobs:
        await node.queue.push(job, "ch")
    (taken,) = await node.queue.fetch("ch", 1, 1)

    assert set(ids_of(jobs)) <= await node.queue.queued_ids()
    await node.queue.complete(taken)
    ids = await node.queue.queued_ids()
    assert taken.job.id.value not in ids
    assert set(ids_of(jobs[1:])) <= ids


async def test_empty_fetch_waits_then_returns_nothing(nodes: NodeFactory) -> None:
    node = await nodes()
    started = time.monotonic()
    assert await node.queue.fetch("empty", 4, 0.5) == []
    assert time.monotonic() - started >= 0.45


async def test_push_wakes_waiting_fetch(nodes: NodeFactory) -> None:
    waiter, pusher = await nodes(), await nodes()
    job = make_job()
    fetch = asyncio.create_task(waiter.queue.fetch("wake", 4, 10))
    await asyncio.sleep(0.2)
    pushed_at = time.monotonic()

    await pusher.queue.push(job, "wake")
    taken = await asyncio.wait_for(fetch, 5)

    assert [queued.job.id.value for queued in taken] == [job.id.value]
    assert time.monotonic() - pushed_at < 0.5


async def test_two_nodes_never_take_same_job(nodes: NodeFactory) -> None:
    first, second = await nodes(), await nodes()
    jobs = [make_job() for _ in range(200)]
    for job in jobs:
        await first.queue.push(job, "shared")

    async def drain(queue_node: object) -> list[int]:
        taken: list[int] = []
        while True:
            batch = await queue_node.queue.fetch("shared", 3, 0.2)  # type: ignore[attr-defined]
            if not batch:
                return taken
            taken.extend(queued.job.id.value for queued in batch)

    a, b = await asyncio.gather(drain(first), drain(second))

    assert sorted(a + b) == sorted(ids_of(jobs))
    assert not set(a) & set(b)


async def test_status_map_set_get_delete(nodes: NodeFactory) -> None:
    node = await nodes()
    await node.statuses.set(7, common_pb2.PENDING)
    await node.statuses.set(8, common_pb2.RUNNING)

    assert await node.statuses.get(7) == common_pb2.PENDING
    assert await node.statuses.find_all() == {7: common_pb2.PENDING, 8: common_pb2.RUNNING}
    await node.statuses.delete(7)
    assert await node.statuses.get(7) is None
    assert await node.statuses.find_all() == {8: common_pb2.RUNNING}


# Redis only: leases and waiting


async def test_dead_process_jobs_return_to_queue(nodes: NodeFactory) -> None:
    dying = await nodes(lease_ms=600)
    survivor = await nodes(lease_ms=600)
    if dying is survivor:
        pytest.skip("the memory queue has no processes to lose")
    jobs = [make_job() for _ in range(3)]
    for job in jobs:
        await dying.queue.push(job, "crash")
    taken = await dying.queue.fetch("crash", 2, 1)
    assert len(taken) == 2
    heartbeat = dying.queue._heartbeat  # type: ignore[attr-defined]
    heartbeat.cancel()  # the process "dies": it stops renewing its lease

    async def returned() -> int:
        await survivor.queue.reap_dead_processes()  # type: ignore[attr-defined]
        return await survivor.queue.queued_count("crash") == 3

    await eventually(returned, timeout_s=5, message="jobs of the dead process returned")
    queued = ids_of(await survivor.queue.list_queued("crash", None))
    assert set(queued) == set(ids_of(jobs))
    assert queued[2] == jobs[2].id.value  # returned jobs go to the head
    # A late completion from the dead process must not remove the returned job.
    await dying.queue.complete(taken[0])
    assert await survivor.queue.queued_count("crash") == 3


async def test_idle_fetch_sends_few_commands(nodes: NodeFactory) -> None:
    node = await nodes()
    client = getattr(node.queue, "_client", None)
    if client is None:
        pytest.skip("the memory queue sends no commands")
    calls = 0
    original = client.execute_command

    async def counting(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        return await original(*args, **kwargs)

    client.execute_command = counting
    try:
        assert await node.queue.fetch("idle", 4, 2) == []
    finally:
        client.execute_command = original

    # One pop, one blocking wait of 2 s, one pop: no polling loop.
    assert calls <= 4, calls
