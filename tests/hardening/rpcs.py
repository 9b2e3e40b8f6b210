"""Every RPC the server registers, and calls with raw request bytes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import grpc
from google.protobuf import message_factory
from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2

from jwp.proto.jobworkerp.service import job_pb2
from jwp.proto.jobworkerp.service import job_result_pb2 as result_service_pb2
from jwp.proto.jobworkerp.service import runner_pb2 as runner_service_pb2
from jwp.proto.jobworkerp.service import worker_pb2 as worker_service_pb2
from jwp.proto.jwp.service import job_batch_pb2

CALL_TIMEOUT_S = 5.0
# RPCs that wait for results or run forever get a short client deadline.
WAITING_TIMEOUT_S = 0.3
WAITING_METHODS = {"Listen", "ListenStream", "ListenByWorker", "Watch", "Enqueue"}


@dataclass(frozen=True)
class Rpc:
    path: str
    request_type: type[Message]
    client_streaming: bool
    server_streaming: bool

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[1]


def _rpcs_of(service: ServiceDescriptor) -> Iterator[Rpc]:
    for method in service.methods:
        yield Rpc(
            path=f"/{service.full_name}/{method.name}",
            request_type=message_factory.GetMessageClass(method.input_type),
            client_streaming=method.client_streaming,
            server_streaming=method.server_streaming,
        )


SERVICES = [
    runner_service_pb2.DESCRIPTOR.services_by_name["RunnerService"],
    worker_service_pb2.DESCRIPTOR.services_by_name["WorkerService"],
    job_pb2.DESCRIPTOR.services_by_name["JobService"],
    job_pb2.DESCRIPTOR.services_by_name["JobStatusService"],
    job_pb2.DESCRIPTOR.services_by_name["JobRestoreService"],
    result_service_pb2.DESCRIPTOR.services_by_name["JobResultService"],
    job_batch_pb2.DESCRIPTOR.services_by_name["JobBatchService"],
    health_pb2.DESCRIPTOR.services_by_name["Health"],
    reflection_pb2.DESCRIPTOR.services_by_name["ServerReflection"],
]
RPCS = [rpc for service in SERVICES for rpc in _rpcs_of(service)]


def call_raw(
    channel: grpc.Channel, rpc: Rpc, data: bytes, metadata: tuple[tuple[str, str], ...] = ()
) -> tuple[grpc.StatusCode, str]:
    """Send `data` as the request bytes of `rpc`; return the status code and details."""
    timeout = WAITING_TIMEOUT_S if rpc.name in WAITING_METHODS else CALL_TIMEOUT_S
    try:
        if rpc.client_streaming:
            stream_call = channel.stream_stream(rpc.path)(
                iter([data]), timeout=timeout, metadata=metadata
            )
            for _ in stream_call:
                pass
        elif rpc.server_streaming:
            for _ in channel.unary_stream(rpc.path)(data, timeout=timeout, metadata=metadata):
                pass
        else:
            channel.unary_unary(rpc.path)(data, timeout=timeout, metadata=metadata)
    except grpc.RpcError as error:
        return error.code(), error.details() or ""
    return grpc.StatusCode.OK, ""
