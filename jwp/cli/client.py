"""The CLI's gRPC connection to a jwp server.

`connect` opens one channel per command from the global `--address` and
`--timeout` options. `Api` has one method per RPC that the commands use, and
turns every gRPC failure into a one-line `CliError`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

import grpc
import typer
from google.protobuf.message import Message

from jwp.proto.jobworkerp.data import common_pb2, job_pb2, job_result_pb2, runner_pb2, worker_pb2
from jwp.proto.jobworkerp.service import common_pb2 as service_common_pb2
from jwp.proto.jobworkerp.service import job_pb2 as job_service_pb2
from jwp.proto.jobworkerp.service import job_result_pb2 as result_service_pb2
from jwp.proto.jobworkerp.service import runner_pb2 as runner_service_pb2
from jwp.proto.jobworkerp.service import worker_pb2 as worker_service_pb2

from .credentials import channel_credentials, with_auth
from .errors import CliError, InputError, ServerError, StoppedWaitingError, UnreachableError
from .options import is_ascii_digits

# jwp serve sends and accepts messages up to 64 MiB, and a result with
# captured command output can exceed grpc's default limit of 4 MiB, so the
# client accepts as much as the server sends.
MAX_RECEIVE_MESSAGE_BYTES = 64 * 1024 * 1024

DEFAULT_PORT = 9000
"""Port of an address given without one, as `jwp serve` listens on by default."""

_DEFAULT_PORT_OF_SCHEME = {"http": 80, "https": 443}

# Phrases in the status details that grpc-core itself writes when the
# connection fails (checked with grpcio 1.85). A server's own UNAVAILABLE
# message, such as a storage outage, contains none of them.
_TRANSPORT_FAILURE_PHRASES = (
    "failed to connect",
    "errors resolving",
    "dns resolution failed",
    "connection refused",
    "connection reset",
    "socket closed",
    "broken pipe",
    "connections to all backends failing",
    "handshake",
)

# grpc-core's details text (grpcio 1.85) when a connection that carried the
# call broke, as when the server process was killed: the client had reached
# the server, so neither an address nor a TLS setting is the cause.
_STREAM_REMOVED = "stream removed"

# grpc-core's details text when the client's own deadline ran out, as
# opposed to a DEADLINE_EXCEEDED that the server sends with its own message.
_CLIENT_DEADLINE_DETAILS = "Deadline Exceeded"

ResponseT = TypeVar("ResponseT", bound=Message)


@dataclass(frozen=True)
class Target:
    """A parsed `--address`: the gRPC target and whether it uses TLS."""

    address: str
    """The address as the user gave it, for messages."""
    target: str
    """`host:port` for grpc."""
    tls: bool


def parse_address(address: str) -> Target:
    """Parse `host:port`, `http://host:port` or `https://host:port` (TLS).

    A missing port is 9000 for `host`, 80 for `http://` and 443 for
    `https://`. IPv6 hosts go in brackets: `[::1]:9000`.

    Raises:
        InputError: The address has another scheme, a path, or no valid host or port.
    """
    text = address.strip()
    if "://" in text:
        return _parse_url(address, text)
    host, port = _split_host_port(address, text)
    return Target(address=address, target=f"{host}:{port or DEFAULT_PORT}", tls=False)


def _parse_url(address: str, text: str) -> Target:
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORT_OF_SCHEME:
        raise InputError(
            f"invalid --address {address!r}: the scheme must be http:// or https://, "
            "or leave it out (host:port)"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InputError(
            f"invalid --address {address!r}: remove the path; give http(s)://host:port"
        )
    host, port = _split_host_port(address, parts.netloc)
    port = port or _DEFAULT_PORT_OF_SCHEME[scheme]
    return Target(address=address, target=f"{host}:{port}", tls=scheme == "https")


def _split_host_port(address: str, text: str) -> tuple[str, int | None]:
    if text.startswith("["):
        host, bracket, rest = text.partition("]")
        host += bracket
        port_text = rest.removeprefix(":") if rest.startswith(":") else rest
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    elif ":" in text:
        raise InputError(f"invalid --address {address!r}: put an IPv6 host in brackets, [::1]:9000")
    else:
        host, port_text = text, ""

    if not host or host == "[]" or "@" in host or "/" in host:
        raise InputError(f"invalid --address {address!r}: give host:port, e.g. localhost:9000")
    if not port_text:
        return host, None
    if not is_ascii_digits(port_text) or not 0 < int(port_text) < 65536:
        raise InputError(f"invalid --address {address!r}: the port must be a number 1-65535")
    return host, int(port_text)


@contextlib.contextmanager
def connect(ctx: typer.Context) -> Iterator[Api]:
    """Open the connection that the global options describe, for the length of a command."""
    options: dict[str, Any] = ctx.obj or {}
    api = Api(parse_address(options.get("address", "")), options.get("timeout_ms"))
    try:
        yield api
    finally:
        api.close()


class Api:
    """The RPCs of a jwp server that the commands use, with one-line errors."""

    def __init__(self, target: Target, timeout_ms: int | None = None) -> None:
        self.address = target.address
        self._tls = target.tls
        self._timeout_ms = timeout_ms
        self._timeout_s = timeout_ms / 1000 if timeout_ms is not None else None
        options = [
            ("grpc.max_receive_message_length", MAX_RECEIVE_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_RECEIVE_MESSAGE_BYTES),
        ]
        if target.tls:
            credentials = channel_credentials()
            channel = grpc.secure_channel(target.target, credentials, options=options)
        else:
            channel = grpc.insecure_channel(target.target, options=options)
        self._channel = with_auth(channel)

    def close(self) -> None:
        self._channel.close()

    # RunnerService

    def find_runner(self, runner_id: int) -> runner_pb2.Runner | None:
        response = self._unary(
            "RunnerService/Find",
            runner_pb2.RunnerId(value=runner_id),
            runner_service_pb2.OptionalRunnerResponse,
        )
        return response.data if response.HasField("data") else None

    def find_runner_by_name(self, name: str) -> runner_pb2.Runner | None:
        response = self._unary(
            "RunnerService/FindByName",
            runner_service_pb2.RunnerNameRequest(name=name),
            runner_service_pb2.OptionalRunnerResponse,
        )
        return response.data if response.HasField("data") else None

    def list_runners(self, *, limit: int | None, offset: int | None) -> list[runner_pb2.Runner]:
        request = service_common_pb2.FindListRequest(limit=limit, offset=offset)
        return self._stream_list("RunnerService/FindList", request, runner_pb2.Runner)

    def count_runners(self) -> int:
        return self._count("RunnerService/Count")

    def create_runner(self, request: runner_service_pb2.CreateRunnerRequest) -> int:
        response = self._unary(
            "RunnerService/Create", request, runner_service_pb2.CreateRunnerResponse
        )
        return response.id.value

    def delete_runner(self, runner_id: int) -> bool:
        response = self._unary(
            "RunnerService/Delete",
            runner_pb2.RunnerId(value=runner_id),
            service_common_pb2.SuccessResponse,
        )
        return response.is_success

    # WorkerService

    def create_worker(self, data: worker_pb2.WorkerData) -> int:
        response = self._unary(
            "WorkerService/Create", data, worker_service_pb2.CreateWorkerResponse
        )
        return response.id.value

    def list_channels(self) -> list[tuple[str, int]]:
        """Return (name, concurrency) of each channel the server runs jobs of."""
        response = self._unary(
            "WorkerService/FindChannelList",
            common_pb2.Empty(),
            worker_service_pb2.FindChannelListResponse,
        )
        return [(channel.name, channel.concurrency) for channel in response.channels]

    def update_worker(self, worker: worker_pb2.Worker) -> bool:
        response = self._unary("WorkerService/Update", worker, service_common_pb2.SuccessResponse)
        return response.is_success

    def delete_worker(self, worker_id: int) -> bool:
        response = self._unary(
            "WorkerService/Delete",
            worker_pb2.WorkerId(value=worker_id),
            service_common_pb2.SuccessResponse,
        )
        return response.is_success

    def find_worker(self, worker_id: int) -> worker_pb2.Worker | None:
        response = self._unary(
            "WorkerService/Find",
            worker_pb2.WorkerId(value=worker_id),
            worker_service_pb2.OptionalWorkerResponse,
        )
        return response.data if response.HasField("data") else None

    def find_worker_by_name(self, name: str) -> worker_pb2.Worker | None:
        response = self._unary(
            "WorkerService/FindByName",
            worker_service_pb2.WorkerNameRequest(name=name),
            worker_service_pb2.OptionalWorkerResponse,
        )
        return response.data if response.HasField("data") else None

    def list_workers(
        self,
        *,
        runner_types: list[int],
        channel: str | None,
        limit: int | None,
        offset: int | None,
    ) -> list[worker_pb2.Worker]:
        request = worker_service_pb2.FindWorkerListRequest(
            runner_types=cast(Any, runner_types), channel=channel, limit=limit, offset=offset
        )
        return self._stream_list("WorkerService/FindList", request, worker_pb2.Worker)

    def count_workers(self) -> int:
        return self._count("WorkerService/Count")

    # JobService and JobStatusService

    def enqueue(self, request: job_service_pb2.JobRequest) -> job_service_pb2.CreateJobResponse:
        """Enqueue a job; for a DIRECT worker this waits for the job's result.

        Ctrl+C during the wait raises StoppedWaitingError naming the job,
        whose id the server sends in the initial metadata once it has queued
        the job. A sync unary call in grpcio receives its initial metadata
        only together with the response, so the call goes out as a server
        stream: the messages on the wire are the same, and a unary response
        is a stream of one message.
        """
        rpc = "JobService/Enqueue"
        multi_callable = self._channel.unary_stream(
            _method_path(rpc),
            request_serializer=_serialize,
            response_deserializer=job_service_pb2.CreateJobResponse.FromString,
        )
        call: Any = multi_callable(request, timeout=self._timeout_s)
        job_id: int | None = None
        try:
            encoded = _metadata_value(call.initial_metadata(), OutputStream.JOB_ID_KEY)
            if encoded is not None:
                job_id = job_pb2.JobId.FromString(encoded).value
            responses = list(call)
        except grpc.RpcError as error:
            translated = self._translate(error, rpc)
            if job_id is not None and isinstance(translated, UnreachableError):
                translated = UnreachableError(
                    f"{translated.message}. Job {job_id} was queued before that; once the "
                    f"server runs, check it with `jwp job status --id {job_id}` and "
                    f"`jwp job-result list-by-job-id --job-id {job_id}`"
                )
            raise translated from None
        except KeyboardInterrupt:
            call.cancel()
            raise StoppedWaitingError(stopped_waiting_message(job_id)) from None
        if len(responses) != 1:
            raise ServerError(f"{rpc} returned {len(responses)} responses instead of one")
        return cast(job_service_pb2.CreateJobResponse, responses[0])

    def enqueue_for_stream(self, request: job_service_pb2.JobRequest) -> OutputStream:
        """Start a streaming job; the global timeout, if set, limits the whole stream."""
        return self._output_stream("JobService/EnqueueForStream", request, self._timeout_s)

    def delete_job(self, job_id: int) -> bool:
        response = self._unary(
            "JobService/Delete", job_pb2.JobId(value=job_id), service_common_pb2.SuccessResponse
        )
        return response.is_success

    def find_job(self, job_id: int) -> job_pb2.Job | None:
        response = self._unary(
            "JobService/Find", job_pb2.JobId(value=job_id), job_service_pb2.OptionalJobResponse
        )
        return response.data if response.HasField("data") else None

    def list_jobs(self, *, limit: int | None, offset: int | None) -> list[job_pb2.Job]:
        request = service_common_pb2.FindListRequest(limit=limit, offset=offset)
        return self._stream_list("JobService/FindList", request, job_pb2.Job)

    def find_queue_list(
        self, *, channel: str | None, limit: int | None
    ) -> list[job_service_pb2.JobAndStatus]:
        request = job_service_pb2.FindQueueListRequest(channel=channel, limit=limit)
        return self._stream_list("JobService/FindQueueList", request, job_service_pb2.JobAndStatus)

    def count_jobs(self) -> int:
        return self._count("JobService/Count")

    def find_job_status(self, job_id: int) -> int | None:
        response = self._unary(
            "JobStatusService/Find",
            job_pb2.JobId(value=job_id),
            job_service_pb2.OptionalJobStatusResponse,
        )
        return response.status if response.HasField("status") else None

    def find_all_job_statuses(self) -> list[job_service_pb2.JobStatusResponse]:
        return self._stream_list(
            "JobStatusService/FindAll", common_pb2.Empty(), job_service_pb2.JobStatusResponse
        )

    # JobRestoreService

    def list_restorable_jobs(
        self, *, include_grabbed: bool, limit: int | None
    ) -> list[job_pb2.Job]:
        request = job_service_pb2.JobRestoreRequest(include_grabbed=include_grabbed, limit=limit)
        return self._stream_list("JobRestoreService/FindAll", request, job_pb2.Job)

    def restore_jobs(self, *, include_grabbed: bool, limit: int | None) -> bool:
        request = job_service_pb2.JobRestoreRequest(include_grabbed=include_grabbed, limit=limit)
        response = self._unary(
            "JobRestoreService/Restore", request, service_common_pb2.SuccessResponse
        )
        return response.is_success

    # JobResultService

    def find_result(self, result_id: int) -> job_result_pb2.JobResult | None:
        response = self._unary(
            "JobResultService/Find",
            job_result_pb2.JobResultId(value=result_id),
            result_service_pb2.OptionalJobResultResponse,
        )
        return response.data if response.HasField("data") else None

    def list_results(
        self, *, limit: int | None, offset: int | None
    ) -> list[job_result_pb2.JobResult]:
        request = service_common_pb2.FindListRequest(limit=limit, offset=offset)
        return self._stream_list("JobResultService/FindList", request, job_result_pb2.JobResult)

    def list_results_by_job_id(self, job_id: int) -> list[job_result_pb2.JobResult]:
        request = result_service_pb2.FindListByJobIdRequest(job_id=job_pb2.JobId(value=job_id))
        return self._stream_list(
            "JobResultService/FindListByJobId", request, job_result_pb2.JobResult
        )

    def listen(self, request: result_service_pb2.ListenRequest) -> job_result_pb2.JobResult:
        return self._unary("JobResultService/Listen", request, job_result_pb2.JobResult)

    def listen_by_worker(self, request: result_service_pb2.ListenByWorkerRequest) -> ResultStream:
        """Start an endless stream of a worker's results; the global timeout does not apply."""
        rpc = "JobResultService/ListenByWorker"
        multi_callable = self._channel.unary_stream(
            _method_path(rpc),
            request_serializer=_serialize,
            response_deserializer=job_result_pb2.JobResult.FromString,
        )
        call = multi_callable(request)
        return ResultStream(call, lambda error: self._translate(error, rpc))

    def listen_stream(self, request: result_service_pb2.ListenRequest) -> OutputStream:
        """Follow a job's streamed output; the global timeout, if set, limits the whole stream."""
        return self._output_stream("JobResultService/ListenStream", request, self._timeout_s)

    def delete_result(self, result_id: int) -> bool:
        response = self._unary(
            "JobResultService/Delete",
            job_result_pb2.JobResultId(value=result_id),
            service_common_pb2.SuccessResponse,
        )
        return response.is_success

    def count_results(self) -> int:
        return self._count("JobResultService/Count")

    # Calls and errors

    def _output_stream(self, rpc: str, request: Message, timeout_s: float | None) -> OutputStream:
        multi_callable = self._channel.unary_stream(
            _method_path(rpc),
            request_serializer=_serialize,
            response_deserializer=common_pb2.ResultOutputItem.FromString,
        )
        call = multi_callable(request, timeout=timeout_s)
        return OutputStream(call, lambda error: self._translate(error, rpc))

    def _count(self, rpc: str) -> int:
        response = self._unary(
            rpc, service_common_pb2.CountCondition(), service_common_pb2.CountResponse
        )
        return response.total

    def _unary(self, rpc: str, request: Message, response_type: type[ResponseT]) -> ResponseT:
        multi_callable = self._channel.unary_unary(
            _method_path(rpc),
            request_serializer=_serialize,
            response_deserializer=response_type.FromString,
        )
        try:
            response = multi_callable(request, timeout=self._timeout_s)
        except grpc.RpcError as error:
            raise self._translate(error, rpc) from None
        return cast(ResponseT, response)

    def _stream_list(
        self, rpc: str, request: Message, response_type: type[ResponseT]
    ) -> list[ResponseT]:
        multi_callable = self._channel.unary_stream(
            _method_path(rpc),
            request_serializer=_serialize,
            response_deserializer=response_type.FromString,
        )
        try:
            return list(multi_callable(request, timeout=self._timeout_s))
        except grpc.RpcError as error:
            raise self._translate(error, rpc) from None

    def _translate(self, error: grpc.RpcError, rpc: str) -> CliError:
        code = error.code()
        details = (error.details() or "").strip() or "no details"
        if code == grpc.StatusCode.UNAVAILABLE:
            if _STREAM_REMOVED in details.lower():
                return UnreachableError(
                    f"lost the connection to the jwp server at {self.address} during {rpc} "
                    f"({details}); the server may have stopped, so check that it runs"
                )
            if _is_transport_failure(details):
                tls_hint = tls_mismatch_hint(details, tls=self._tls)
                if tls_hint is not None:
                    return UnreachableError(
                        f"cannot reach a jwp server at {self.address}: {tls_hint}"
                    )
                return UnreachableError(
                    f"cannot reach a jwp server at {self.address} ({details}); start one with "
                    "`jwp serve`, or point --address (or JWP_ADDRESS) at a running server"
                )
            return UnreachableError(
                f"the jwp server at {self.address} is unavailable: {details}; retry later"
            )
        if (
            code == grpc.StatusCode.DEADLINE_EXCEEDED
            and self._timeout_ms is not None
            and details == _CLIENT_DEADLINE_DETAILS
        ):
            return ServerError(
                f"{rpc} timed out after --timeout {self._timeout_ms} ms; raise --timeout, "
                "or leave it out to wait as long as the server does"
            )
        if code == grpc.StatusCode.UNIMPLEMENTED:
            return ServerError(
                f"{rpc} failed with UNIMPLEMENTED: {details}; check that --address "
                f"({self.address}) points at a jwp or jobworkerp server"
            )
        return ServerError(f"{rpc} failed with {code.name}: {details}")


class ResultStream:
    """A server stream of job results that ends when the server ends it or on `cancel`."""

    def __init__(self, call: Any, translate: Callable[[grpc.RpcError], CliError]) -> None:
        self._call = call
        self._translate = translate
        self._cancelled = False

    def __iter__(self) -> Iterator[job_result_pb2.JobResult]:
        try:
            for result in self._call:
                yield cast(job_result_pb2.JobResult, result)
        except grpc.RpcError as error:
            if self._cancelled:
                return
            raise self._translate(error) from None

    def wait_subscribed(self) -> None:
        """Block until the server sends its headers, which it does once it is subscribed.

        A call that fails returns here too; iterating then raises its error.
        """
        self._call.initial_metadata()

    def cancel(self) -> None:
        self._cancelled = True
        self._call.cancel()


class OutputStream:
    """The streamed output of one job: chunks, the end item, then the result in the trailer.

    The server sends the job id in the initial metadata (`x-job-id-bin`) and
    the final JobResult in the trailing metadata (`x-job-result-bin`).
    """

    JOB_ID_KEY = "x-job-id-bin"
    RESULT_KEY = "x-job-result-bin"

    def __init__(self, call: Any, translate: Callable[[grpc.RpcError], CliError]) -> None:
        self._call = call
        self._translate = translate

    def __iter__(self) -> Iterator[common_pb2.ResultOutputItem]:
        try:
            for item in self._call:
                yield cast(common_pb2.ResultOutputItem, item)
        except grpc.RpcError as error:
            raise self._translate(error) from None

    def job_id(self) -> int | None:
        """Wait for the initial metadata and return the job id it carries, if any."""
        encoded = _metadata_value(self._call.initial_metadata(), self.JOB_ID_KEY)
        return job_pb2.JobId.FromString(encoded).value if encoded is not None else None

    def result(self) -> job_result_pb2.JobResult | None:
        """Return the final result from the trailing metadata; call after iterating."""
        encoded = _metadata_value(self._call.trailing_metadata(), self.RESULT_KEY)
        return job_result_pb2.JobResult.FromString(encoded) if encoded is not None else None

    def cancel(self) -> None:
        self._call.cancel()


def stopped_waiting_message(job_id: int | None) -> str:
    """Say that Ctrl+C ended a wait for a job that may still run, and how to find the job."""
    if job_id is None:
        return (
            "stopped waiting before the server confirmed the job; it may still have been "
            "queued and run. Look for it with `jwp job find-queue-list` or `jwp job-result list`"
        )
    return (
        f"stopped waiting for job {job_id}; it stays queued and may still run. Check it with "
        f"`jwp job status --id {job_id}`, cancel it with `jwp job delete --id {job_id}`, and "
        f"read its result, if the worker stores results, with `jwp job-result list-by-job-id "
        f"--job-id {job_id}`"
    )


def _metadata_value(metadata: Any, key: str) -> bytes | None:
    for entry_key, value in metadata or ():
        if entry_key == key and isinstance(value, bytes):
            return value
    return None


def _method_path(rpc: str) -> str:
    return f"/jobworkerp.service.{rpc}"


def _serialize(message: Message) -> bytes:
    return message.SerializeToString()


def tls_mismatch_hint(details: str, *, tls: bool) -> str | None:
    """Explain a failure that a TLS setting of the client or the server explains, or return None.

    The phrases are those of grpc-core with BoringSSL (checked with grpcio
    1.85): a TLS client meets a plaintext server with WRONG_VERSION_NUMBER,
    an untrusted certificate with CERTIFICATE_VERIFY_FAILED, and a plaintext
    client meets a TLS server with "Socket closed".
    """
    lowered = details.lower()
    if tls and "wrong_version_number" in lowered:
        return (
            "the address starts with https:// but the server does not use TLS; give it as "
            "host:port or http://host:port"
        )
    if tls and "certificate_verify_failed" in lowered:
        return (
            f"the server's TLS certificate is not trusted ({details}); set JWP_TLS_CA_FILE to "
            "the PEM file of the CA that signed it"
        )
    if tls and "handshake" in lowered:
        return (
            f"the TLS handshake failed ({details}); check that the server uses TLS "
            "(JWP_TLS_CERT_FILE), or give the address without https://"
        )
    if not tls and "socket closed" in lowered and _STREAM_REMOVED not in lowered:
        return (
            f"the server closed the connection ({details}); if it uses TLS "
            "(JWP_TLS_CERT_FILE is set), give the address as https://host:port"
        )
    return None


def _is_transport_failure(details: str) -> bool:
    lowered = details.lower()
    return any(phrase in lowered for phrase in _TRANSPORT_FAILURE_PHRASES)
