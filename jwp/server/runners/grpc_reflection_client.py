"""Message types of a gRPC method, learned from the server's reflection service.

The GRPC_UNARY runner with `use_reflection` takes the request as JSON, so it
needs the method's input type to encode it. This module requests from the
server's `grpc.reflection.v1alpha.ServerReflection` service, over the
runner's own aio channel, the file that defines the service and then each
file it imports, and builds the message classes from them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import Message
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from jwp.errors import RetryableRunnerError, RunnerArgumentError

logger = logging.getLogger(__name__)

# A file imports rarely more than a few dozen others; a longer chain points
# to a server that keeps sending new names.
MAX_FILES = 500


@dataclass(frozen=True)
class MethodTypes:
    """The request and response message classes of one method."""

    input_type: type[Message]
    output_type: type[Message]


async def resolve_method(
    channel: grpc.aio.Channel,
    service: str,
    method: str,
    *,
    metadata: Sequence[tuple[str, str | bytes]],
    timeout_s: float | None,
) -> MethodTypes:
    """Return the message classes of `service/method` as the server describes them.

    Raises:
        RunnerArgumentError: The server has no reflection service, or it does
            not know the service or method.
        RetryableRunnerError: The server could not be reached in time.
    """
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    call = stub.ServerReflectionInfo(metadata=tuple(metadata), timeout=timeout_s)
    try:
        files = await _fetch_files(call, service)
        await call.done_writing()
    except grpc.aio.AioRpcError as error:
        raise _reflection_error(error, service) from None
    finally:
        call.cancel()

    pool = descriptor_pool.DescriptorPool()
    _add_in_dependency_order(pool, files)
    try:
        method_descriptor = pool.FindServiceByName(service).methods_by_name[method]
    except KeyError:
        raise RunnerArgumentError(
            f"GRPC_UNARY: service {service} has no method {method!r} according to reflection"
        ) from None
    return MethodTypes(
        input_type=message_factory.GetMessageClass(method_descriptor.input_type),
        output_type=message_factory.GetMessageClass(method_descriptor.output_type),
    )


async def _fetch_files(
    call: grpc.aio.StreamStreamCall[
        reflection_pb2.ServerReflectionRequest, reflection_pb2.ServerReflectionResponse
    ],
    service: str,
) -> dict[str, descriptor_pb2.FileDescriptorProto]:
    """Ask for the file defining `service`, then for every file it imports, transitively."""
    files: dict[str, descriptor_pb2.FileDescriptorProto] = {}
    request = reflection_pb2.ServerReflectionRequest(file_containing_symbol=service)
    while request is not None:
        await call.write(request)
        response = await call.read()
        if not isinstance(response, reflection_pb2.ServerReflectionResponse):
            raise RetryableRunnerError("GRPC_UNARY: the reflection stream ended early")
        if response.HasField("error_response"):
            requested = request.file_containing_symbol or request.file_by_filename
            raise RunnerArgumentError(
                f"GRPC_UNARY: the server's reflection service does not know {requested!r}: "
                f"{response.error_response.error_message or 'no detail'}; check the method name"
            )
        for serialized in response.file_descriptor_response.file_descriptor_proto:
            file = descriptor_pb2.FileDescriptorProto.FromString(serialized)
            files.setdefault(file.name, file)
        if len(files) > MAX_FILES:
            raise RunnerArgumentError(
                f"GRPC_UNARY: reflection of {service} needs more than {MAX_FILES} files"
            )
        missing = sorted({dep for f in files.values() for dep in f.dependency} - files.keys())
        request = (
            reflection_pb2.ServerReflectionRequest(file_by_filename=missing[0]) if missing else None
        )
    return files


def _add_in_dependency_order(
    pool: descriptor_pool.DescriptorPool, files: dict[str, descriptor_pb2.FileDescriptorProto]
) -> None:
    added: set[str] = set()

    def add(name: str) -> None:
        if name in added:
            return
        added.add(name)
        for dependency in files[name].dependency:
            add(dependency)
        pool.Add(files[name])

    for name in sorted(files):
        add(name)


def _reflection_error(error: grpc.aio.AioRpcError, service: str) -> Exception:
    code = error.code()
    logger.debug("reflection of %s failed: %s %s", service, code, error.details())
    if code == grpc.StatusCode.UNIMPLEMENTED:
        return RunnerArgumentError(
            "GRPC_UNARY: the server does not offer the reflection service; set use_reflection "
            "to false and send the request as base64-encoded protobuf bytes"
        )
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return RetryableRunnerError(
            f"GRPC_UNARY: reflection of {service} failed with {code.name}: {error.details()}"
        )
    return RunnerArgumentError(
        f"GRPC_UNARY: reflection of {service} failed with {code.name}: {error.details()}"
    )
