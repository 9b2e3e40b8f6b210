"""Reject requests that do not decode with INVALID_ARGUMENT, naming the broken field.

grpcio calls a method's request deserializer before any handler runs, and a
`DecodeError` there ends the call with UNKNOWN and a Python class name. The
interceptor here swaps in a deserializer that keeps the failure instead, and
the handler then aborts with INVALID_ARGUMENT. The message names the field
whose bytes are broken (for example a string field with invalid UTF-8),
found by walking the protobuf wire format against the request's descriptor.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import DecodeError

Context = grpc.aio.ServicerContext[Any, Any]
Continuation = Callable[[grpc.HandlerCallDetails], Awaitable[Any]]

# Wire types of the protobuf encoding.
_VARINT, _FIXED64, _LENGTH_DELIMITED, _START_GROUP, _END_GROUP, _FIXED32 = range(6)


@dataclass(frozen=True)
class UndecodableRequest:
    """Placeholder for a request whose bytes did not decode; `message` explains why."""

    message: str


class RequestDecodingInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Turn request decoding failures into INVALID_ARGUMENT with the broken field's name.

    Only async handlers are wrapped. The synchronous handlers registered
    for RPCs this server does not implement ignore their request and return
    UNIMPLEMENTED, so they receive the placeholder unchanged.
    """

    async def intercept_service(
        self,
        continuation: Continuation,
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(handler_call_details)
        if handler is None or handler.request_deserializer is None:
            return handler
        return checked_handler(handler)


def checked_handler(handler: Any) -> Any:
    """Return `handler` with a deserializer that keeps failures and behaviors that reject them."""
    deserialize = handler.request_deserializer
    descriptor = _descriptor_of(deserialize)
    full_name = descriptor.full_name if descriptor is not None else "request message"

    def lenient(data: bytes) -> object:
        try:
            return deserialize(data)
        except DecodeError as error:
            problem = describe_decode_error(descriptor, data) if descriptor is not None else None
            return UndecodableRequest(
                f"request is not a valid {full_name}: {problem or error}; "
                f"send a serialized {full_name}"
            )

    replaced: dict[str, Any] = {"request_deserializer": lenient}
    for kind in ("unary_unary", "unary_stream", "stream_unary", "stream_stream"):
        behavior = getattr(handler, kind)
        if behavior is not None:
            streaming_request = kind.startswith("stream")
            replaced[kind] = _checked_behavior(behavior, streaming_request=streaming_request)
    return handler._replace(**replaced)


def _checked_behavior(behavior: Callable[..., Any], *, streaming_request: bool) -> Any:
    if streaming_request:
        return _with_checked_iterator(behavior)
    if inspect.isasyncgenfunction(behavior):

        async def checked_stream(request: object, context: Context) -> AsyncIterator[Any]:
            if isinstance(request, UndecodableRequest):
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, request.message)
            async for item in behavior(request, context):
                yield item

        return checked_stream
    if inspect.iscoroutinefunction(behavior):

        async def checked_unary(request: object, context: Context) -> Any:
            if isinstance(request, UndecodableRequest):
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, request.message)
            return await behavior(request, context)

        return checked_unary
    return behavior


def _with_checked_iterator(behavior: Callable[..., Any]) -> Any:
    """Wrap a client-streaming behavior so a broken request message aborts the call."""

    async def checked_requests(requests: Any, context: Context) -> AsyncIterator[Any]:
        async for request in requests:
            if isinstance(request, UndecodableRequest):
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, request.message)
            yield request

    if inspect.isasyncgenfunction(behavior):

        async def checked_stream(requests: Any, context: Context) -> AsyncIterator[Any]:
            async for item in behavior(checked_requests(requests, context), context):
                yield item

        return checked_stream
    if inspect.iscoroutinefunction(behavior):

        async def checked_call(requests: Any, context: Context) -> Any:
            return await behavior(checked_requests(requests, context), context)

        return checked_call
    return behavior


def _descriptor_of(deserialize: Callable[[bytes], Any]) -> Descriptor | None:
    # The generated code passes `SomeMessage.FromString`, a bound class method.
    owner = getattr(deserialize, "__self__", None)
    descriptor = getattr(owner, "DESCRIPTOR", None)
    return descriptor if isinstance(descriptor, Descriptor) else None


class _WireError(Exception):
    pass


def describe_decode_error(descriptor: Descriptor, data: bytes) -> str | None:
    """Return what is wrong with `data` as a `descriptor` message, naming the field, or None.

    None means the walk found no fault; the parser's own message is used then.
    """
    try:
        _walk(descriptor, memoryview(data), "")
    except _WireError as error:
        return str(error)
    return None


def _walk(descriptor: Descriptor, data: memoryview, prefix: str) -> None:
    position = 0
    while position < len(data):
        tag, position = _read_varint(data, position, f"a field tag of {prefix or 'the request'}")
        number, wire_type = tag >> 3, tag & 7
        field = descriptor.fields_by_number.get(number)
        name = f"{prefix}{field.name}" if field is not None else f"{prefix}field {number}"
        if number == 0:
            raise _WireError(f"field number 0 in {prefix or 'the request'} is not allowed")
        if wire_type == _VARINT:
            _, position = _read_varint(data, position, name)
        elif wire_type == _FIXED64:
            position = _skip(data, position, 8, name)
        elif wire_type == _FIXED32:
            position = _skip(data, position, 4, name)
        elif wire_type == _LENGTH_DELIMITED:
            length, position = _read_varint(data, position, f"the length of {name}")
            end = _skip(data, position, length, name)
            if field is not None:
                _check_value(field, data[position:end], name)
            position = end
        else:
            raise _WireError(f"{name} has wire type {wire_type}, which proto3 does not use")


def _check_value(field: FieldDescriptor, value: memoryview, name: str) -> None:
    if field.type == FieldDescriptor.TYPE_STRING:
        try:
            bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise _WireError(f"{name} is not valid UTF-8") from None
    elif field.type == FieldDescriptor.TYPE_MESSAGE:
        assert field.message_type is not None
        _walk(field.message_type, value, f"{name}.")


def _read_varint(data: memoryview, position: int, what: str) -> tuple[int, int]:
    value = shift = 0
    for index in range(position, min(position + 10, len(data))):
        byte = data[index]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, index + 1
        shift += 7
    raise _WireError(f"{what} is a truncated or overlong varint")


def _skip(data: memoryview, position: int, length: int, name: str) -> int:
    end = position + length
    if end > len(data):
        raise _WireError(f"{name} is cut off: it needs {length} bytes, {len(data) - position} left")
    return end
