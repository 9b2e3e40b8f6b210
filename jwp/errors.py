"""The exception tree of jwp.

    JwpError
    ├── RequestError            the caller's mistake; nothing was changed
    │   ├── InvalidArgumentError
    │   │   └── WorkerNotFoundError   (enqueue to an unknown worker)
    │   ├── NotFoundError
    │   ├── AlreadyExistsError
    │   ├── UnauthenticatedError
    │   ├── ResourceExhaustedError
    │   └── FailedPreconditionError
    ├── InfrastructureError     storage or queue could not be reached
    │   ├── StorageUnavailableError
    │   └── QueueUnavailableError
    ├── WaitTimeoutError        a wait for a result ran out of time
    ├── ShuttingDownError       the server is stopping and takes no more work
    └── RunnerError             a job's run failed; becomes a job result status
        ├── RetryableRunnerError      ERROR_AND_RETRY (timeouts, spawn failures, 5xx)
        │   └── JobTimeoutError
        ├── FatalRunnerError          FATAL_ERROR (runner could not be loaded)
        ├── RunnerArgumentError       OTHER_ERROR (args or settings the runner rejects)
        ├── OutputTooLargeError       OTHER_ERROR (output over JWP_MAX_RESULT_OUTPUT_BYTES)
        ├── AbortedRunnerError        ABORT
        └── JobCancelledError         CANCELLED

`jwp.server.grpc.status` maps every request and infrastructure class to a
gRPC status code; `jwp.server.dispatch.outcome` maps every runner class to a
result status. Messages say what failed, on which value, and what to do.
"""

from __future__ import annotations


class JwpError(Exception):
    """Base class of every error jwp raises on purpose."""


class RequestError(JwpError):
    """A request the caller must change; the server state is unchanged."""


class InvalidArgumentError(RequestError):
    """A request field has a value the server cannot accept."""


class WorkerNotFoundError(InvalidArgumentError):
    """A job names a worker that does not exist (INVALID_ARGUMENT, as in jobworkerp)."""


class NotFoundError(RequestError):
    """The entity a request names does not exist."""


class AlreadyExistsError(RequestError):
    """A unique name or key is already taken."""


class UnauthenticatedError(RequestError):
    """The request lacks valid credentials."""


class ResourceExhaustedError(RequestError):
    """A configured capacity limit was reached; retry later."""


class FailedPreconditionError(RequestError):
    """The request is valid but the server is not in a state to apply it."""


class InfrastructureError(JwpError):
    """A backing service (database, Redis) failed or is unreachable."""


class StorageUnavailableError(InfrastructureError):
    """The relational database failed or is unreachable."""


class QueueUnavailableError(InfrastructureError):
    """The job queue failed or is unreachable."""


class WaitTimeoutError(JwpError):
    """A wait for a job result ended before the result arrived."""


class ShuttingDownError(JwpError):
    """The server is stopping and does not take new work."""


class RunnerError(JwpError):
    """A runner failed to run a job; the message becomes the job result output."""


class RetryableRunnerError(RunnerError):
    """A failure that may pass on a later attempt (ERROR_AND_RETRY)."""


class JobTimeoutError(RetryableRunnerError):
    """A job ran past its timeout and was stopped."""


class FatalRunnerError(RunnerError):
    """The runner could not be set up, so retrying cannot help (FATAL_ERROR)."""


class RunnerArgumentError(RunnerError):
    """Args or settings the runner cannot use (OTHER_ERROR)."""


class OutputTooLargeError(RunnerError):
    """The runner's output is larger than the result size limit (OTHER_ERROR)."""


class AbortedRunnerError(RunnerError):
    """The runner's peer aborted the call (ABORT)."""


class JobCancelledError(RunnerError):
    """The job was cancelled by a request (CANCELLED)."""
