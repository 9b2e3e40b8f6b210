"""Validation gaps found by the bad-input suite, each with the test of its fix."""

from __future__ import annotations

import grpc
import pytest

from jwp.proto.jobworkerp.data import common_pb2, job_pb2, runner_pb2, worker_pb2
from jwp.proto.jobworkerp.service import job_pb2 as job_service_pb2
from jwp.server.app import JwpServer
from jwp.server.dispatch.outcome import retry_delay_ms
from tests.conftest import Stubs
from tests.hardening.wire import INVALID_UTF8, length_delimited


async def call_raw(stubs: Stubs, path: str, data: bytes) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stubs.channel.unary_unary(path)(data, timeout=10)
    return raised.value


async def test_invalid_utf8_names_field(stubs: Stubs) -> None:
    # JobRequest.worker_name is field 2.
    error = await call_raw(
        stubs, "/jobworkerp.service.JobService/Enqueue", length_delimited(2, INVALID_UTF8)
    )

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "worker_name is not valid UTF-8" in (error.details() or "")


async def test_invalid_utf8_names_nested_field(stubs: Stubs) -> None:
    # Worker.data (2) -> WorkerData.name (1).
    request = length_delimited(2, length_delimited(1, INVALID_UTF8))

    error = await call_raw(stubs, "/jobworkerp.service.WorkerService/Update", request)

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "data.name is not valid UTF-8" in (error.details() or "")


async def test_truncated_request_is_invalid_argument(stubs: Stubs) -> None:
    # Field 1 announces 50 bytes but 2 follow.
    error = await call_raw(stubs, "/jobworkerp.service.WorkerService/Create", b"\x0a\x32ab")

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = error.details() or ""
    assert "not a valid jobworkerp.data.WorkerData" in details
    assert "name is cut off" in details


async def test_infinite_retry_basis_rejected(stubs: Stubs) -> None:
    data = worker_pb2.WorkerData(
        name="inf-basis",
        runner_id=runner_pb2.RunnerId(value=1),
        retry_policy=common_pb2.RetryPolicy(
            type=common_pb2.EXPONENTIAL, interval=0, max_retry=3, basis=float("inf")
        ),
    )

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stubs.workers.Create(data)

    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "retry_policy.basis is infinite" in (raised.value.details() or "")


@pytest.mark.parametrize("basis", [float("inf"), 3e38])
def test_exponential_retry_zero_interval(basis: float) -> None:
    policy = common_pb2.RetryPolicy(
        type=common_pb2.EXPONENTIAL, interval=0, max_retry=30, basis=basis
    )

    assert [retry_delay_ms(policy, retried) for retried in (0, 1, 20)] == [0, 0, 0]


async def test_queue_listing_unknown_channel_adds_nothing(server: JwpServer, stubs: Stubs) -> None:
    assert server.components is not None
    queue = server.components.queue
    before = len(queue._channels)

    for number in range(200):
        request = job_service_pb2.FindQueueListRequest(channel=f"nowhere-{number}" * 100)
        assert [item async for item in stubs.jobs.FindQueueList(request)] == []

    assert len(queue._channels) == before


async def test_reserved_runner_delete_names_id(stubs: Stubs) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stubs.runners.Delete(runner_pb2.RunnerId(value=0))

    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "runner id 0 is reserved for runners built in" in (raised.value.details() or "")


async def test_job_id_zero_rejected(stubs: Stubs) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stubs.jobs.Find(job_pb2.JobId(value=0))

    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "job id 0" in (raised.value.details() or "")
