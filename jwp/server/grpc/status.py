"""The one place where jwp errors become gRPC status codes.

Handlers are wrapped with `unary` or `server_stream`; a `JwpError` aborts
the call with its mapped code and its message. Anything else is a bug:
it is logged with its traceback and answered INTERNAL with a short
reference, never with the exception text.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import grpc

from jwp import errors

logger = logging.getLogger(__name__)

GRPC_STATUS_OF_ERROR: dict[type[errors.JwpError], grpc.StatusCode] = {
    errors.InvalidArgumentError: grpc.StatusCode.INVALID_ARGUMENT,
    errors.WorkerNotFoundError: grpc.StatusCode.INVALID_ARGUMENT,
    errors.NotFoundError: grpc.StatusCode.NOT_FOUND,
    errors.AlreadyExistsError: grpc.StatusCode.ALREADY_EXISTS,
    errors.UnauthenticatedError: grpc.StatusCode.UNAUTHENTICATED,
    errors.ResourceExhaustedError: grpc.StatusCode.RESOURCE_EXHAUSTED,
    errors.FailedPreconditionError: grpc.StatusCode.FAILED_PRECONDITION,
    errors.RequestError: grpc.StatusCode.INVALID_ARGUMENT,
    errors.StorageUnavailableError: grpc.StatusCode.UNAVAILABLE,
    errors.QueueUnavailableError: grpc.StatusCode.UNAVAILABLE,
    errors.InfrastructureError: grpc.StatusCode.UNAVAILABLE,
    errors.WaitTimeoutError: grpc.StatusCode.DEADLINE_EXCEEDED,
    errors.ShuttingDownError: grpc.StatusCode.UNAVAILABLE,
    errors.RunnerArgumentError: grpc.StatusCode.INVALID_ARGUMENT,
    errors.JobTimeoutError: grpc.StatusCode.DEADLINE_EXCEEDED,
    errors.RetryableRunnerError: grpc.StatusCode.UNAVAILABLE,
    errors.FatalRunnerError: grpc.StatusCode.FAILED_PRECONDITION,
    errors.OutputTooLargeError: grpc.StatusCode.RESOURCE_EXHAUSTED,
    errors.AbortedRunnerError: grpc.StatusCode.ABORTED,
    errors.JobCancelledError: grpc.StatusCode.CANCELLED,
    errors.RunnerError: grpc.StatusCode.FAILED_PRECONDITION,
    errors.JwpError: grpc.StatusCode.INTERNAL,
}
"""Status code of each error class; a subclass not listed takes its nearest parent's code."""


def status_of(error: errors.JwpError) -> grpc.StatusCode:
    for error_class in type(error).__mro__:
        code = GRPC_STATUS_OF_ERROR.get(error_class)
        if code is not None:
            return code
    return grpc.StatusCode.INTERNAL


async def _abort(
    context: grpc.aio.ServicerContext[Any, Any], error: BaseException, rpc: str
) -> None:
    if isinstance(error, errors.JwpError):
        code = status_of(error)
        if code == grpc.StatusCode.INTERNAL:
            logger.error("%s failed: %s", rpc, error)
        await context.abort(code, str(error))
    reference = uuid.uuid4().hex[:12]
    logger.error("%s failed unexpectedly (reference %s)", rpc, reference, exc_info=error)
    await context.abort(
        grpc.StatusCode.INTERNAL,
        f"internal server error (reference {reference}); the server log has the details",
    )


Request = TypeVar("Request")
Response = TypeVar("Response")
Servicer = TypeVar("Servicer")


def unary(
    handler: Callable[[Servicer, Request, grpc.aio.ServicerContext[Any, Any]], Awaitable[Response]],
) -> Callable[[Servicer, Request, grpc.aio.ServicerContext[Any, Any]], Awaitable[Response]]:
    """Wrap a unary handler so its errors become gRPC statuses."""

    @functools.wraps(handler)
    async def wrapper(
        self: Servicer, request: Request, context: grpc.aio.ServicerContext[Any, Any]
    ) -> Response:
        try:
            return await handler(self, request, context)
        except grpc.aio.AbortError:
            raise
        except Exception as error:
            await _abort(context, error, handler.__qualname__)
            raise AssertionError("unreachable: context.abort raises") from error

    return wrapper


def server_stream(
    handler: Callable[
        [Servicer, Request, grpc.aio.ServicerContext[Any, Any]], AsyncIterator[Response]
    ],
) -> Callable[[Servicer, Request, grpc.aio.ServicerContext[Any, Any]], AsyncIterator[Response]]:
    """Wrap a server-streaming handler so its errors become gRPC statuses."""

    @functools.wraps(handler)
    async def wrapper(
        self: Servicer, request: Request, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[Response]:
        try:
            async for item in handler(self, request, context):
                yield item
        except grpc.aio.AbortError:
            raise
        except Exception as error:
            await _abort(context, error, handler.__qualname__)

    return wrapper
