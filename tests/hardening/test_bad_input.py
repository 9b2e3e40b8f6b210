"""Malformed and extreme requests to every RPC get documented statuses, never INTERNAL.

The server under test is a real Standalone server whose dispatcher is
stopped (see `admission_server`), so whatever a fuzzed request manages to
enqueue never runs. Each RPC gets random bytes, messages with extreme values
(1.1 MB strings and bytes, negative and overflowing numbers, NaN and
infinite floats, unknown enum values, bytes of other messages as settings
and args) and messages with invalid UTF-8 written at the wire level.
"""

from __future__ import annotations

import re

import grpc
import pytest
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2
from hypothesis import given
from hypothesis import strategies as st

from jwp.proto.jobworkerp.data import common_pb2, job_result_pb2, runner_pb2, worker_pb2
from jwp.proto.jobworkerp.data import job_pb2 as job_data_pb2
from jwp.proto.jobworkerp.runner import command_args_pb2, http_request_runner_pb2
from jwp.proto.jobworkerp.service import common_pb2 as service_common_pb2
from jwp.proto.jobworkerp.service import job_pb2, worker_pb2_grpc
from jwp.proto.jobworkerp.service import job_result_pb2 as result_service_pb2
from jwp.proto.jobworkerp.service import runner_pb2 as runner_service_pb2
from jwp.proto.jobworkerp.service import worker_pb2 as worker_service_pb2
from tests.hardening.profiles import FUZZ_SETTINGS
from tests.hardening.rpcs import RPCS, Rpc, call_raw
from tests.hardening.wire import request_bytes
from tests.support.servers import ThreadedServer

DOCUMENTED_CODES = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.UNIMPLEMENTED,
}
"""Statuses a caller's mistake may get; INTERNAL, UNKNOWN and UNAVAILABLE are not among them."""


def _valid_requests() -> dict[str, Message]:
    """A valid request of each type, naming the `targets` workers, for one-field mutations."""
    command = runner_pb2.RunnerId(value=1)
    job_id = job_data_pb2.JobId(value=1)
    args = command_args_pb2.CommandArgs(command="true").SerializeToString()
    requests: list[Message] = [
        worker_pb2.WorkerData(
            name="fuzz-new",
            runner_id=command,
            retry_policy=common_pb2.RetryPolicy(
                type=common_pb2.EXPONENTIAL, interval=100, max_interval=1000, max_retry=2, basis=2
            ),
            periodic_interval=0,
            channel="fuzz",
            store_success=True,
        ),
        worker_pb2.Worker(
            id=worker_pb2.WorkerId(value=2),
            data=worker_pb2.WorkerData(name="fuzz-update", runner_id=command),
        ),
        job_pb2.JobRequest(
            worker_name="fuzz-command",
            args=args,
            uniq_key="fuzz-key",
            run_after_time=0,
            priority=common_pb2.PRIORITY_HIGH,
            timeout=1000,
        ),
        result_service_pb2.ListenRequest(job_id=job_id, worker_name="fuzz-command", timeout=100),
        result_service_pb2.ListenByWorkerRequest(worker_name="fuzz-command"),
        result_service_pb2.FindListByJobIdRequest(job_id=job_id),
        service_common_pb2.FindListRequest(limit=10, offset=0),
        worker_service_pb2.FindWorkerListRequest(runner_types=[1], channel="fuzz", limit=5),
        worker_service_pb2.WorkerNameRequest(name="fuzz-command"),
        job_pb2.FindQueueListRequest(limit=5, channel="fuzz"),
        job_pb2.JobRestoreRequest(include_grabbed=True, limit=10),
        runner_service_pb2.RunnerNameRequest(name="COMMAND"),
        runner_service_pb2.CreateRunnerRequest(
            name="fuzz-runner", runner_type=common_pb2.MCP_SERVER, definition="{}"
        ),
        job_data_pb2.JobId(value=1),
        worker_pb2.WorkerId(value=1),
        runner_pb2.RunnerId(value=70_000),
        job_result_pb2.JobResultId(value=1),
        health_pb2.HealthCheckRequest(service=""),
    ]
    return {request.DESCRIPTOR.full_name: request for request in requests}


VALID_REQUESTS = _valid_requests()


def _words_of(type_name: str) -> str:
    return " ".join(re.findall(r"[A-Z][a-z]*", type_name)).lower()


def field_names(descriptor: Descriptor, depth: int = 0) -> set[str]:
    """Names a message about `descriptor` may use for a field: fields, oneofs, the type."""
    names = {descriptor.full_name.lower(), _words_of(descriptor.name)}
    names.update(oneof.name for oneof in descriptor.oneofs)
    for field in descriptor.fields:
        names.add(field.name)
        if field.message_type is not None and depth < 3:
            names.update(field_names(field.message_type, depth + 1))
    return names


def assert_documented(rpc: Rpc, code: grpc.StatusCode, details: str) -> None:
    assert code in DOCUMENTED_CODES, f"{rpc.path} answered {code.name}: {details}"
    if code in (grpc.StatusCode.OK, grpc.StatusCode.DEADLINE_EXCEEDED):
        return
    if rpc.path.startswith("/grpc.health.v1.Health/") and code == grpc.StatusCode.NOT_FOUND:
        return  # grpcio-health-checking rejects an unknown service name without a message
    assert details, f"{rpc.path} answered {code.name} without a message"
    assert "Traceback" not in details
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        lowered = details.lower()
        names = field_names(rpc.request_type.DESCRIPTOR)
        assert any(name in lowered for name in names), (
            f"{rpc.path}: INVALID_ARGUMENT message names no field of "
            f"{rpc.request_type.DESCRIPTOR.name}: {details}"
        )


def assert_serving(channel: grpc.Channel) -> None:
    check = channel.unary_unary(
        "/grpc.health.v1.Health/Check",
        request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
        response_deserializer=health_pb2.HealthCheckResponse.FromString,
    )
    response = check(health_pb2.HealthCheckRequest(), timeout=10)
    assert response.status == health_pb2.HealthCheckResponse.SERVING


@pytest.fixture(scope="module")
def targets(fuzz_channel: grpc.Channel) -> grpc.Channel:
    """Create workers the fuzzed ids and names can hit: ids 1-5 (fuzz-update is 2), names fuzz-*."""
    stub = worker_pb2_grpc.WorkerServiceStub(fuzz_channel)
    command = runner_pb2.RunnerId(value=1)
    http_settings = http_request_runner_pb2.HttpRequestRunnerSettings(
        base_url="http://127.0.0.1:9"
    ).SerializeToString()
    for data in (
        worker_pb2.WorkerData(name="fuzz-command", runner_id=command, broadcast_results=True),
        worker_pb2.WorkerData(name="fuzz-update", runner_id=command),
        worker_pb2.WorkerData(
            name="fuzz-direct", runner_id=command, response_type=common_pb2.DIRECT
        ),
        worker_pb2.WorkerData(
            name="fuzz-http", runner_id=runner_pb2.RunnerId(value=2), runner_settings=http_settings
        ),
        worker_pb2.WorkerData(
            name="fuzz-backup", runner_id=command, queue_type=common_pb2.WITH_BACKUP
        ),
    ):
        stub.Create(data, timeout=10)
    return fuzz_channel


@pytest.mark.parametrize("rpc", RPCS, ids=lambda rpc: rpc.path.split(".")[-1])
@FUZZ_SETTINGS
@given(data=st.data())
def test_rpc_answers_documented_status(
    admission_server: ThreadedServer, targets: grpc.Channel, rpc: Rpc, data: st.DataObject
) -> None:
    base = VALID_REQUESTS.get(rpc.request_type.DESCRIPTOR.full_name)
    request = data.draw(request_bytes(rpc.request_type, base), label="request")
    code, details = call_raw(targets, rpc, request)
    assert_documented(rpc, code, details)
    assert_serving(targets)
