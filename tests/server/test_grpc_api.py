"""Every RPC of the jobworkerp services against a real server on each backend, with its errors."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from jwp.proto.jobworkerp.data import common_pb2, job_pb2, job_result_pb2, runner_pb2, worker_pb2
from jwp.proto.jobworkerp.runner import command_args_pb2, command_result_pb2
from jwp.proto.jobworkerp.service import common_pb2 as service_common_pb2
from jwp.proto.jobworkerp.service import job_pb2 as job_service_pb2
from jwp.proto.jobworkerp.service import job_result_pb2 as result_service_pb2
from jwp.proto.jobworkerp.service import runner_pb2 as runner_service_pb2
from jwp.proto.jobworkerp.service import worker_pb2 as worker_service_pb2
from tests.conftest import Stubs
from tests.support.backends import BACKENDS
from tests.support.waiting import eventually

pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True)

COMMAND = runner_pb2.RunnerId(value=1)


def command_args(command: str, *args: str) -> bytes:
    return command_args_pb2.CommandArgs(command=command, args=list(args)).SerializeToString()


def worker_data(name: str, **fields: object) -> worker_pb2.WorkerData:
    values: dict[str, object] = {"name": name, "runner_id": COMMAND}
    values.update(fields)
    return worker_pb2.WorkerData(**values)  # type: ignore[arg-type]


async def create_worker(stubs: Stubs, name: str, **fields: object) -> int:
    response = await stubs.workers.Create(worker_data(name, **fields))
    return response.id.value


async def expect_error(call: object, code: grpc.StatusCode) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    assert caught.value.code() == code, caught.value.details()
    return caught.value.details() or ""


async def collect(stream: object) -> list[object]:
    return [item async for item in stream]  # type: ignore[attr-defined]


# RunnerService


async def test_runner_list_find_and_count(stubs: Stubs) -> None:
    runners = await collect(stubs.runners.FindList(service_common_pb2.FindListRequest()))
    names = [runner.data.name for runner in runners]  # type: ignore[attr-defined]
    assert "COMMAND" in names

    found = await stubs.runners.Find(runner_pb2.RunnerId(value=1))
    assert found.data.data.name == "COMMAND"
    assert "message CommandArgs" in found.data.data.job_args_proto
    assert "message CommandResult" in found.data.data.result_output_proto
    assert found.data.data.runner_settings_proto == ""
    assert found.data.data.output_type == runner_pb2.BOTH

    by_name = await stubs.runners.FindByName(runner_service_pb2.RunnerNameRequest(name="COMMAND"))
    assert by_name.data.id.value == 1

    count = await stubs.runners.Count(service_common_pb2.CountCondition())
    assert count.total == len(runners)


async def test_runner_find_unknown_returns_empty(stubs: Stubs) -> None:
    missing = await stubs.runners.Find(runner_pb2.RunnerId(value=424242))
    assert not missing.HasField("data")
    by_name = await stubs.runners.FindByName(runner_service_pb2.RunnerNameRequest(name="NOPE"))
    assert not by_name.HasField("data")


async def test_runner_delete_builtin_rejected(stubs: Stubs) -> None:
    details = await expect_error(
        stubs.runners.Delete(runner_pb2.RunnerId(value=1)), grpc.StatusCode.INVALID_ARGUMENT
    )
    assert "built in" in details


async def test_runner_create_of_builtin_type_rejected(stubs: Stubs) -> None:
    details = await expect_error(
        stubs.runners.Create(
            runner_service_pb2.CreateRunnerRequest(
                name="x", runner_type=common_pb2.RunnerType.COMMAND, definition=""
            )
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "runner_type COMMAND" in details


async def test_runner_list_rejects_negative_limit(stubs: Stubs) -> None:
    details = await expect_error(
        collect(stubs.runners.FindList(service_common_pb2.FindListRequest(limit=-1))),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "limit" in details


# WorkerService


async def test_worker_create_find_update_delete(stubs: Stubs) -> None:
    worker_id = await create_worker(stubs, "w1", channel="gpu", store_success=True)

    found = await stubs.workers.Find(worker_pb2.WorkerId(value=worker_id))
    assert found.data.data.name == "w1"
    assert found.data.data.channel == "gpu"
    by_name = await stubs.workers.FindByName(worker_service_pb2.WorkerNameRequest(name="w1"))
    assert by_name.data.id.value == worker_id

    changed = worker_pb2.Worker(
        id=worker_pb2.WorkerId(value=worker_id), data=worker_data("w1-renamed")
    )
    updated = await stubs.workers.Update(changed)
    assert updated.is_success
    found = await stubs.workers.Find(worker_pb2.WorkerId(value=worker_id))
    assert found.data.data.name == "w1-renamed"
    assert not found.data.data.HasField("channel")

    deleted = await stubs.workers.Delete(worker_pb2.WorkerId(value=worker_id))
    assert deleted.is_success
    again = await stubs.workers.Delete(worker_pb2.WorkerId(value=worker_id))
    assert not again.is_success
    gone = await stubs.workers.Find(worker_pb2.WorkerId(value=worker_id))
    assert not gone.HasField("data")


async def test_worker_list_filters_and_count(stubs: Stubs) -> None:
    await create_worker(stubs, "a", channel="c1")
    await create_worker(stubs, "b")
    await create_worker(stubs, "c", channel="c1")

    all_workers = await collect(stubs.workers.FindList(worker_service_pb2.FindWorkerListRequest()))
    assert [w.data.name for w in all_workers] == ["c", "b", "a"]  # type: ignore[attr-defined]
    in_c1 = await collect(
        stubs.workers.FindList(worker_service_pb2.FindWorkerListRequest(channel="c1"))
    )
    assert [w.data.name for w in in_c1] == ["c", "a"]  # type: ignore[attr-defined]
    page = await collect(
        stubs.workers.FindList(worker_service_pb2.FindWorkerListRequest(limit=1, offset=1))
    )
    assert [w.data.name for w in page] == ["b"]  # type: ignore[attr-defined]
    by_type = await collect(
        stubs.workers.FindList(
            worker_service_pb2.FindWorkerListRequest(
                runner_types=[common_pb2.RunnerType.HTTP_REQUEST]
            )
        )
    )
    assert by_type == []
    count = await stubs.workers.Count(service_common_pb2.CountCondition())
    assert count.total == 3


async def test_worker_channel_list(stubs: Stubs) -> None:
    response = await stubs.workers.FindChannelList(common_pb2.Empty())
    assert [(c.name, c.concurrency) for c in response.channels] == [("__default_job_channel__", 4)]


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"name": ""}, "name is empty"),
        ({"runner_id": runner_pb2.RunnerId(value=999)}, "runner_id 999"),
        ({"periodic_interval": 5000, "response_type": common_pb2.DIRECT}, "periodic_interval"),
        ({"periodic_interval": 500}, "JOB_QUEUE_FETCH_INTERVAL"),
        (
            {"queue_type": common_pb2.FORCED_RDB, "response_type": common_pb2.DIRECT},
            "FORCED_RDB",
        ),
        ({"retry_policy": common_pb2.RetryPolicy(type=1, basis=0.5)}, "basis"),
        ({"queue_type": 7}, "queue_type 7"),
        ({"response_type": 9}, "response_type 9"),
        ({"next_workers": [worker_pb2.WorkerId(value=4040)]}, "next_workers"),
    ],
)
async def test_worker_create_invalid_fields(
    stubs: Stubs, fields: dict[str, object], fragment: str
) -> None:
    values: dict[str, object] = {"name": "bad", "runner_id": COMMAND}
    values.update(fields)
    details = await expect_error(
        stubs.workers.Create(worker_pb2.WorkerData(**values)),  # type: ignore[arg-type]
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert fragment in details
    count = await stubs.workers.Count(service_common_pb2.CountCondition())
    assert count.total == 0


async def test_worker_duplicate_name_already_exists(stubs: Stubs) -> None:
    await create_worker(stubs, "dup")
    details = await expect_error(
        stubs.workers.Create(worker_data("dup")), grpc.StatusCode.ALREADY_EXISTS
    )
    assert "dup" in details


async def test_worker_update_missing_is_not_found(stubs: Stubs) -> None:
    await expect_error(
        stubs.workers.Update(
            worker_pb2.Worker(id=worker_pb2.WorkerId(value=77), data=worker_data("x"))
        ),
        grpc.StatusCode.NOT_FOUND,
    )


async def test_worker_find_rejects_non_positive_id(stubs: Stubs) -> None:
    await expect_error(
        stubs.workers.Find(worker_pb2.WorkerId(value=0)), grpc.StatusCode.INVALID_ARGUMENT
    )


# JobService and JobStatusService


async def test_enqueue_direct_returns_result(stubs: Stubs) -> None:
    await create_worker(stubs, "Echo", response_type=common_pb2.DIRECT)
    response = await stubs.jobs.Enqueue(
        job_service_pb2.JobRequest(worker_name="Echo", args=command_args("echo", "hi"))
    )
    assert response.id.value > 0
    assert response.result.data.status == common_pb2.SUCCESS
    assert response.result.data.worker_name == "Echo"
    result = command_result_pb2.CommandResult.FromString(response.result.data.output.items)
    assert result.stdout == "hi"


async def test_enqueue_direct_without_store_keeps_no_result(stubs: Stubs) -> None:
    await create_worker(stubs, "Echo", response_type=common_pb2.DIRECT)
    response = await stubs.jobs.Enqueue(
        job_service_pb2.JobRequest(worker_name="Echo", args=command_args("true"))
    )
    stored = await collect(
        stubs.results.FindListByJobId(result_service_pb2.FindListByJobIdRequest(job_id=response.id))
    )
    assert stored == []


async def test_enqueue_no_result_stores_and_lists_result(stubs: Stubs) -> None:
    worker_id = await create_worker(stubs, "bg", store_success=True, broadcast_results=True)
    response = await stubs.jobs.Enqueue(
        job_service_pb2.JobRequest(
            worker_id=worker_pb2.WorkerId(value=worker_id), args=command_args("echo", "x")
        )
    )
    assert not response.HasField("result")
    listened = await stubs.results.Listen(
        result_service_pb2.ListenRequest(job_id=response.id, worker_name="bg", timeout=10_000)
    )
    assert listened.data.status == common_pb2.SUCCESS
    stored = await collect(
        stubs.results.FindListByJobId(result_service_pb2.FindListByJobIdRequest(job_id=response.id))
    )
    assert len(stored) == 1
    found = await stubs.results.Find(stored[0].id)  # type: ignore[attr-defined]
    assert found.data.data.job_id == response.id
    listed = await collect(stubs.results.FindList(service_common_pb2.FindListRequest()))
    assert len(listed) == 1
    count = await stubs.results.Count(service_common_pb2.CountCondition())
    assert count.total == 1
    deleted = await stubs.results.Delete(stored[0].id)  # type: ignore[attr-defined]
    assert deleted.is_success
    count = await stubs.results.Count(service_common_pb2.CountCondition())
    assert count.total == 0


@pytest.mark.parametrize(
    ("request_fields", "code", "fragment"),
    [
        ({}, grpc.StatusCode.INVALID_ARGUMENT, "worker is missing"),
        ({"worker_name": ""}, grpc.StatusCode.INVALID_ARGUMENT, "worker_name is empty"),
        ({"worker_name": "ghost"}, grpc.StatusCode.INVALID_ARGUMENT, "'ghost' not found"),
        (
            {"worker_id": worker_pb2.WorkerId(value=999)},
            grpc.StatusCode.INVALID_ARGUMENT,
            "id 999 not found",
        ),
        (
            {"worker_name": "ok", "run_after_time": -1},
            grpc.StatusCode.INVALID_ARGUMENT,
            "run_after_time",
        ),
        ({"worker_name": "ok", "priority": 5}, grpc.StatusCode.INVALID_ARGUMENT, "priority 5"),
        ({"worker_name": "ok", "uniq_key": ""}, grpc.StatusCode.INVALID_ARGUMENT, "uniq_key"),
        (
            {"worker_name": "ok", "args": b"\xff\xff"},
            grpc.StatusCode.INVALID_ARGUMENT,
            "CommandArgs",
        ),
        (
            {"worker_name": "ok", "args": b"\x98\x06\x01"},
            grpc.StatusCode.INVALID_ARGUMENT,
            "field number 99",
        ),
    ],
)
async def test_enqueue_invalid_requests_store_nothing(
    stubs: Stubs, request_fields: dict[str, object], code: grpc.StatusCode, fragment: str
) -> None:
    await create_worker(stubs, "ok", store_success=True, store_failure=True)
    details = await expect_error(
        stubs.jobs.Enqueue(job_service_pb2.JobRequest(**request_fields)),  # type: ignore[arg-type]
        code,
    )
    assert fragment in details
    assert (await stubs.jobs.Count(service_common_pb2.CountCondition())).total == 0
    assert (await stubs.results.Count(service_common_pb2.CountCondition())).total == 0
    statuses = await collect(stubs.statuses.FindAll(common_pb2.Empty()))
    assert statuses == []


async def test_enqueue_direct_with_run_after_time_rejected(stubs: Stubs) -> None:
    await create_worker(stubs, "d", response_type=common_pb2.DIRECT)
    details = await expect_error(
        stubs.jobs.Enqueue(
            job_service_pb2.JobRequest(worker_name="d", args=command_args("true"), run_after_time=1)
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "DIRECT" in details


async def test_scheduled_job_find_list_count_delete(stubs: Stubs) -> None:
    await create_worker(stubs, "later", store_failure=True)
    far_future = 4_102_444_800_000  # 2100-01-01
    response = await stubs.jobs.Enqueue(
        job_service_pb2.JobRequest(
            worker_name="later", args=command_args("true"), run_after_time=far_future
        )
    )
    found = await stubs.jobs.Find(response.id)
    assert found.data.data.run_after_time == far_future
    listed = await collect(stubs.jobs.FindList(service_common_pb2.FindListRequest(limit=10)))
    assert [job.id.value for job in listed] == [response.id.value]  # type: ignore[attr-defined]
    assert (await stubs.jobs.Count(service_common_pb2.CountCondition())).total == 1
    status = await stubs.statuses.Find(response.id)
    assert status.status == common_pb2.PENDING

    deleted = await stubs.jobs.Delete(response.id)
    assert deleted.is_success
    assert not (await stubs.jobs.Find(response.id)).HasField("data")
    assert not (await stubs.statuses.Find(response.id)).HasField("status")
    results = await collect(
        stubs.results.FindListByJobId(result_service_pb2.FindListByJobIdRequest(job_id=response.id))
    )
    assert [r.data.status for r in results] == [common_pb2.CANCELLED]  # type: ignore[attr-defined]
    assert not (await stubs.jobs.Delete(response.id)).is_success


async def test_find_queue_list_shows_waiting_jobs(stubs: Stubs) -> None:
    await create_worker(stubs, "slow", channel="unserved")
    response = await stubs.jobs.Enqueue(
        job_service_pb2.JobRequest(worker_name="slow", args=command_args("true"))
    )
    queued = await collect(
        stubs.jobs.FindQueueList(job_service_pb2.FindQueueListRequest(channel="unserved"))
    )
    assert [item.job.id.value for item in queued] == [response.id.value]  # type: ignore[attr-defined]
    assert queued[0].status == common_pb2.PENDING  # type: ignore[attr-defined]
    assert (await stubs.jobs.Delete(response.id)).is_success
    queued = await collect(
        stubs.jobs.FindQueueList(job_service_pb2.FindQueueListRequest(channel="unserved"))
    )
    assert queued == []


async def test_job_status_running_then_removed(stubs: Stubs) -> None:
    await create_worker(stubs, "sleeper", broadcast_results=True)
    response = await stubs.jobs.Enqueue(
        job_service_pb2.JobRequest(worker_name="sleeper", args=command_args("sleep", "0.3"))
    )

    async def running() -> bool:
        return (await stubs.statuses.Find(response.id)).status == common_pb2.RUNNING

    await eventually(running, message="job RUNNING")
    await stubs.results.Listen(
        result_service_pb2.ListenRequest(job_id=response.id, worker_name="sleeper")
    )
    assert not (await stubs.statuses.Find(response.id)).HasField("status")


async def test_job_find_and_delete_reject_bad_ids(stubs: Stubs) -> None:
    await expect_error(stubs.jobs.Find(job_pb2.JobId(value=-5)), grpc.StatusCode.INVALID_ARGUMENT)
    await expect_error(stubs.jobs.Delete(job_pb2.JobId(value=0)), grpc.StatusCode.INVALID_ARGUMENT)
    missing = await stubs.jobs.Delete(job_pb2.JobId(value=12345))
    assert not missing.is_success


# JobResultService


async def test_listen_requires_broadcast_worker(stubs: Stubs) -> None:
    await create_worker(stubs, "quiet")
    details = await expect_error(
        stubs.results.Listen(
            result_service_pb2.ListenRequest(job_id=job_pb2.JobId(value=1), worker_name="quiet")
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "broadcast" in details
    await expect_error(
        stubs.results.Listen(
            result_service_pb2.ListenRequest(job_id=job_pb2.JobId(value=1), worker_name="none")
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    await expect_error(
        stubs.results.Listen(result_service_pb2.ListenRequest(worker_name="quiet")),
        grpc.StatusCode.INVALID_ARGUMENT,
    )


async def test_listen_times_out_with_deadline_exceeded(stubs: Stubs) -> None:
    await create_worker(stubs, "b", broadcast_results=True)
    await expect_error(
        stubs.results.Listen(
            result_service_pb2.ListenRequest(
                job_id=job_pb2.JobId(value=99), worker_name="b", timeout=100
            )
        ),
        grpc.StatusCode.DEADLINE_EXCEEDED,
    )


async def test_listen_after_finish_without_store_uses_remembered_result(stubs: Stubs) -> None:
    await create_worker(stubs, "b", broadcast_results=True)
    response = await stubs.jobs.Enqueue(
        job_service_pb2.JobRequest(worker_name="b", args=command_args("echo", "1"))
    )
    first = await stubs.results.Listen(
        result_service_pb2.ListenRequest(job_id=response.id, worker_name="b", timeout=10_000)
    )
    second = await stubs.results.Listen(
        result_service_pb2.ListenRequest(job_id=response.id, worker_name="b", timeout=100)
    )
    assert second.id == first.id


async def test_many_listeners_get_the_same_result(stubs: Stubs) -> None:
    await create_worker(stubs, "b", broadcast_results=True)
    response = await stubs.jobs.Enqueue(
        job_service_pb2.JobRequest(worker_name="b", args=command_args("sleep", "0.2"))
    )
    listens = [
        stubs.results.Listen(
            result_service_pb2.ListenRequest(job_id=response.id, worker_name="b", timeout=10_000)
        )
        for _ in range(10)
    ]
    results = await asyncio.gather(*listens)
    assert len({result.id.value for result in results}) == 1


async def test_listen_by_worker_streams_new_results(stubs: Stubs) -> None:
    worker_id = await create_worker(stubs, "stream", broadcast_results=True)
    stream = stubs.results.ListenByWorker(
        result_service_pb2.ListenByWorkerRequest(worker_id=worker_pb2.WorkerId(value=worker_id))
    )
    await stubs.channel.channel_ready()
    received: list[job_result_pb2.JobResult] = []

    async def read_two() -> None:
        async for result in stream:
            received.append(result)
            if len(received) == 2:
                return

    reader = asyncio.create_task(read_two())
    # The subscription opens when the server handles the call; enqueue only after
    # the server has started the stream, which the first job's delivery proves.
    async with asyncio.timeout(10):
        while not received:
            await stubs.jobs.Enqueue(
                job_service_pb2.JobRequest(worker_name="stream", args=command_args("true"))
            )
            done, _ = await asyncio.wait({reader}, timeout=0.2)
            if done or received:
                break
        await stubs.jobs.Enqueue(
            job_service_pb2.JobRequest(worker_name="stream", args=command_args("true"))
        )
        await reader
    stream.cancel()
    assert all(r.data.worker_id.value == worker_id for r in received)


async def test_listen_by_worker_rejects_non_broadcast(stubs: Stubs) -> None:
    await create_worker(stubs, "quiet")
    await expect_error(
        collect(
            stubs.results.ListenByWorker(
                result_service_pb2.ListenByWorkerRequest(worker_name="quiet")
            )
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )


async def test_result_find_unknown_is_empty(stubs: Stubs) -> None:
    found = await stubs.results.Find(job_result_pb2.JobResultId(value=5))
    assert not found.HasField("data")
    deleted = await stubs.results.Delete(job_result_pb2.JobResultId(value=5))
    assert not deleted.is_success


async def test_health_and_reflection_are_served(stubs: Stubs) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    health = health_pb2_grpc.HealthStub(stubs.channel)
    status = await health.Check(health_pb2.HealthCheckRequest(service=""))
    assert status.status == health_pb2.HealthCheckResponse.SERVING

    reflection = reflection_pb2_grpc.ServerReflectionStub(stubs.channel)
    call = reflection.ServerReflectionInfo()
    await call.write(reflection_pb2.ServerReflectionRequest(list_services=""))
    response = await call.read()
    await call.done_writing()
    names = {service.name for service in response.list_services_response.service}
    assert "jobworkerp.service.JobService" in names


# Findings of a new-user trial


async def test_deleted_worker_id_not_reused(stubs: Stubs) -> None:
    first = await create_worker(stubs, "victim", store_failure=True)
    await stubs.jobs.Enqueue(
        job_service_pb2.JobRequest(
            worker_name="victim", args=command_args("true"), run_after_time=4_102_444_800_000
        )
    )
    assert (await stubs.jobs.Count(service_common_pb2.CountCondition())).total == 1

    assert (await stubs.workers.Delete(worker_pb2.WorkerId(value=first))).is_success
    second = await create_worker(stubs, "newcomer")

    assert second != first
    assert (await stubs.jobs.Count(service_common_pb2.CountCondition())).total == 0


async def test_run_after_time_beyond_year_9999_rejected(stubs: Stubs) -> None:
    await create_worker(stubs, "far")
    details = await expect_error(
        stubs.jobs.Enqueue(
            job_service_pb2.JobRequest(
                worker_name="far", args=command_args("true"), run_after_time=2**63 - 1
            )
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "run_after_time" in details
    assert (await stubs.jobs.Count(service_common_pb2.CountCondition())).total == 0


async def test_rejected_uniq_key_leaves_no_status(stubs: Stubs) -> None:
    await create_worker(stubs, "uniq", channel="unserved")
    kept = await stubs.jobs.Enqueue(
        job_service_pb2.JobRequest(worker_name="uniq", args=command_args("true"), uniq_key="k")
    )
    await expect_error(
        stubs.jobs.Enqueue(
            job_service_pb2.JobRequest(worker_name="uniq", args=command_args("true"), uniq_key="k")
        ),
        grpc.StatusCode.ALREADY_EXISTS,
    )

    statuses = await collect(stubs.statuses.FindAll(common_pb2.Empty()))
    assert [status.id.value for status in statuses] == [kept.id.value]  # type: ignore[attr-defined]


async def test_worker_name_with_surrounding_space_rejected(stubs: Stubs) -> None:
    details = await expect_error(
        stubs.workers.Create(worker_data(" Echo")), grpc.StatusCode.INVALID_ARGUMENT
    )
    assert "white space" in details


async def test_enqueue_sends_job_id_header(stubs: Stubs) -> None:
    await create_worker(stubs, "direct", response_type=common_pb2.DIRECT)
    call = stubs.jobs.Enqueue(
        job_service_pb2.JobRequest(worker_name="direct", args=command_args("true"))
    )

    headers = dict(await call.initial_metadata())  # type: ignore[arg-type]
    response = await call

    header = headers["x-job-id-bin"]
    assert isinstance(header, bytes)
    assert job_pb2.JobId.FromString(header).value == response.id.value
