"""Size and capacity limits: message size, frame size, args, result output, queued jobs."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from pydantic import ValidationError

from jwp.proto.jobworkerp.data import common_pb2, runner_pb2, worker_pb2
from jwp.proto.jobworkerp.runner import command_args_pb2
from jwp.proto.jobworkerp.service import job_pb2 as job_service_pb2
from jwp.proto.jobworkerp.service import worker_pb2 as worker_service_pb2
from jwp.server.grpc.transport import server_options
from tests.support.jobs import output_text, run_job, server_stubs
from tests.support.servers import make_settings

COMMAND = 1


def command_args(command: str, *args: str) -> bytes:
    return command_args_pb2.CommandArgs(command=command, args=list(args)).SerializeToString()


async def test_args_over_limit_rejected(tmp_path: Path) -> None:
    async with server_stubs(tmp_path, jwp_max_args_bytes=1000) as stubs:
        await stubs.workers.Create(
            worker_pb2.WorkerData(name="big", runner_id=runner_pb2.RunnerId(value=COMMAND))
        )
        args = command_args("echo", "x" * 2000)

        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stubs.jobs.Enqueue(job_service_pb2.JobRequest(worker_name="big", args=args))

    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = raised.value.details() or ""
    assert f"args are {len(args)} bytes" in details
    assert "limit of 1000 bytes (JWP_MAX_ARGS_BYTES)" in details


async def test_args_at_limit_accepted(tmp_path: Path) -> None:
    args = command_args("true")
    async with server_stubs(tmp_path, jwp_max_args_bytes=len(args)) as stubs:
        result = await run_job(stubs, COMMAND, b"", args)

    assert result.status == common_pb2.SUCCESS


async def test_output_over_limit_fails_job(tmp_path: Path) -> None:
    async with server_stubs(tmp_path, jwp_max_result_output_bytes=1000) as stubs:
        result = await run_job(stubs, COMMAND, b"", command_args("head", "-c", "5000", "/dev/zero"))

    assert result.status == common_pb2.OTHER_ERROR
    text = output_text(result)
    assert "bytes of output, over the limit of 1000 bytes (JWP_MAX_RESULT_OUTPUT_BYTES)" in text


async def test_output_over_limit_is_not_retried(tmp_path: Path) -> None:
    policy = common_pb2.RetryPolicy(type=common_pb2.CONSTANT, interval=10, max_retry=3, basis=2)
    async with server_stubs(tmp_path, jwp_max_result_output_bytes=1000) as stubs:
        result = await run_job(
            stubs,
            COMMAND,
            b"",
            command_args("head", "-c", "5000", "/dev/zero"),
            retry_policy=policy,
        )

    assert result.status == common_pb2.OTHER_ERROR
    assert result.retried == 0


async def test_queue_cap_rejects_past_cap(tmp_path: Path) -> None:
    # Channel "parked" is not served by this server, so its jobs stay queued.
    async with server_stubs(tmp_path, jwp_max_queued_jobs_per_channel=3) as stubs:
        for name, channel in (("parked", "parked"), ("other", "other")):
            await stubs.workers.Create(
                worker_pb2.WorkerData(
                    name=name, runner_id=runner_pb2.RunnerId(value=COMMAND), channel=channel
                )
            )
        request = job_service_pb2.JobRequest(worker_name="parked", args=command_args("true"))
        for _ in range(3):
            await stubs.jobs.Enqueue(request)

        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stubs.jobs.Enqueue(request)
        other = await stubs.jobs.Enqueue(
            job_service_pb2.JobRequest(worker_name="other", args=command_args("true"))
        )

    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    details = raised.value.details() or ""
    assert "channel 'parked' already has 3 queued jobs" in details
    assert "JWP_MAX_QUEUED_JOBS_PER_CHANNEL (3)" in details
    assert other.id.value > 0


async def test_queue_cap_ignores_rdb_jobs(tmp_path: Path) -> None:
    # FORCED_RDB jobs wait in the RDB, not in the channel queue, so the cap
    # does not count or stop them.
    async with server_stubs(tmp_path, jwp_max_queued_jobs_per_channel=1) as stubs:
        await stubs.workers.Create(
            worker_pb2.WorkerData(
                name="rdb",
                runner_id=runner_pb2.RunnerId(value=COMMAND),
                channel="parked",
                queue_type=common_pb2.FORCED_RDB,
            )
        )
        request = job_service_pb2.JobRequest(worker_name="rdb", args=command_args("true"))
        ids = [(await stubs.jobs.Enqueue(request)).id.value for _ in range(3)]

    assert len(set(ids)) == 3


async def test_message_over_max_rejected(tmp_path: Path) -> None:
    settings = {
        "jwp_max_message_bytes": 256 * 1024,
        "jwp_max_args_bytes": 64 * 1024,
        "jwp_max_result_output_bytes": 64 * 1024,
    }
    async with server_stubs(tmp_path, **settings) as stubs:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stubs.workers.FindByName(
                worker_service_pb2.WorkerNameRequest(name="x" * 300 * 1024)
            )

    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_frame_size_setting_serves(tmp_path: Path) -> None:
    async with server_stubs(tmp_path, max_frame_size=16_777_215) as stubs:
        result = await run_job(
            stubs, COMMAND, b"", command_args("head", "-c", "300000", "/dev/zero")
        )

    assert result.status == common_pb2.SUCCESS


def test_frame_size_maps_to_grpc_option(tmp_path: Path) -> None:
    options = dict(server_options(make_settings(tmp_path, max_frame_size=65_536)))

    assert options["grpc.http2.max_frame_size"] == 65_536
    assert "grpc.http2.max_frame_size" not in dict(server_options(make_settings(tmp_path)))


def test_frame_size_out_of_range_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        make_settings(tmp_path, max_frame_size=1000)


def test_limits_must_fit_in_message(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as raised:
        make_settings(tmp_path, jwp_max_message_bytes=1024 * 1024)

    assert "a job result carries both" in str(raised.value)
