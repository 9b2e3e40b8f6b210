"""Every error class has an explicit gRPC status and, for runner errors, a result status."""

from __future__ import annotations

import inspect

import grpc
import pytest

from jwp import errors
from jwp.proto.jobworkerp.data import common_pb2
from jwp.server.dispatch.outcome import RESULT_STATUS_OF_ERROR, status_of_error
from jwp.server.grpc.status import GRPC_STATUS_OF_ERROR, status_of
from jwp.server.storage.engine import db_errors

ERROR_CLASSES = [
    cls
    for _, cls in inspect.getmembers(errors, inspect.isclass)
    if issubclass(cls, errors.JwpError)
]


@pytest.mark.parametrize("error_class", ERROR_CLASSES, ids=lambda cls: cls.__name__)
def test_error_class_has_grpc_status(error_class: type[errors.JwpError]) -> None:
    assert error_class in GRPC_STATUS_OF_ERROR, f"{error_class.__name__} has no gRPC status"


@pytest.mark.parametrize(
    "error_class",
    [
        cls
        for cls in ERROR_CLASSES
        if issubclass(cls, errors.RunnerError) and cls is not errors.RunnerError
    ],
    ids=lambda cls: cls.__name__,
)
def test_runner_error_has_result_status(error_class: type[errors.RunnerError]) -> None:
    assert error_class in RESULT_STATUS_OF_ERROR, f"{error_class.__name__} has no result status"


def test_callers_mistakes_never_map_to_internal() -> None:
    for error_class in ERROR_CLASSES:
        if issubclass(error_class, errors.RequestError):
            assert status_of(error_class("x")) != grpc.StatusCode.INTERNAL


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (errors.WorkerNotFoundError("x"), grpc.StatusCode.INVALID_ARGUMENT),
        (errors.NotFoundError("x"), grpc.StatusCode.NOT_FOUND),
        (errors.AlreadyExistsError("x"), grpc.StatusCode.ALREADY_EXISTS),
        (errors.StorageUnavailableError("x"), grpc.StatusCode.UNAVAILABLE),
        (errors.WaitTimeoutError("x"), grpc.StatusCode.DEADLINE_EXCEEDED),
        (errors.ShuttingDownError("x"), grpc.StatusCode.UNAVAILABLE),
    ],
)
def test_grpc_status_of_common_errors(error: errors.JwpError, expected: grpc.StatusCode) -> None:
    assert status_of(error) == expected


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (errors.JobTimeoutError("x"), common_pb2.ERROR_AND_RETRY),
        (errors.RetryableRunnerError("x"), common_pb2.ERROR_AND_RETRY),
        (errors.FatalRunnerError("x"), common_pb2.FATAL_ERROR),
        (errors.RunnerArgumentError("x"), common_pb2.OTHER_ERROR),
        (errors.AbortedRunnerError("x"), common_pb2.ABORT),
        (errors.JobCancelledError("x"), common_pb2.CANCELLED),
    ],
)
def test_result_status_of_runner_errors(error: errors.RunnerError, expected: int) -> None:
    assert status_of_error(error) == expected


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (2003, "Can't connect to MySQL server on '127.0.0.1' ([Errno 111] Connection refused)"),
        (2013, "Lost connection to MySQL server during query (read timeout)"),
    ],
)
async def test_unreachable_database_is_unavailable(code: int, message: str) -> None:
    from asyncmy.errors import OperationalError as DriverOperationalError
    from sqlalchemy.exc import OperationalError

    with pytest.raises(errors.StorageUnavailableError) as raised:
        async with db_errors("create worker 'resize'"):
            raise OperationalError("INSERT", {}, DriverOperationalError(code, message))

    assert status_of(raised.value) == grpc.StatusCode.UNAVAILABLE
    assert str(raised.value) == (
        f"cannot create worker 'resize': the database is unreachable (error {code}: {message}); "
        "retry once it is back"
    )
