"""JSON to protobuf bytes and back, with the schemas that runners publish.

A runner's RunnerData carries the full text of a .proto file for its
settings (`runner_settings_proto`), job args (`job_args_proto`) and results
(`result_output_proto`). The schema is the first top-level message of that
text, which the CLI compiles at run time (`jwp.schema`). An empty text means
raw bytes: JSON options are then sent as their UTF-8 text unchanged, and raw
outputs are shown as text.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from jwp import schema
from jwp.proto.jobworkerp.data import common_pb2, job_result_pb2, runner_pb2, worker_pb2

from .client import Api
from .errors import InputError, ServerError
from .options import INT64_MAX, is_ascii_digits

WorkerRef = int | str
"""A worker given by id or by name."""

_UNKNOWN_TOP_LEVEL_FIELD = re.compile(r'unknown field "[^".\[]*"$')
# Part of the message of jwp.schema for text that is not JSON at all.
_JSON_SYNTAX_ERROR = "JSON syntax error"


def parse_worker_ref(text: str, option: str = "--worker") -> WorkerRef:
    """Read a worker option: ASCII digits are a worker id, anything else a worker name.

    Raises:
        InputError: The text is empty, or digits beyond the int64 range of ids.
    """
    value = text.strip()
    if not value:
        raise InputError(f"{option} is empty; give a worker id or name")
    if not is_ascii_digits(value):
        return value
    worker_id = int(value)
    if worker_id > INT64_MAX:
        raise InputError(
            f"invalid {option} {value}: worker ids are at most {INT64_MAX}; "
            "list workers with `jwp worker list`"
        )
    return worker_id


def describe_worker_ref(ref: WorkerRef) -> str:
    return f"worker {ref}" if isinstance(ref, int) else f"worker {ref!r}"


class Lookups:
    """Runners and workers of one command, each fetched from the server at most once.

    Callers must not change the returned messages, because later lookups return them again.
    """

    def __init__(self, api: Api) -> None:
        self.api = api
        self._runners: dict[int, runner_pb2.Runner | None] = {}
        self._workers: dict[int, worker_pb2.Worker | None] = {}
        self._worker_ids_by_name: dict[str, int] = {}

    def runner(self, runner_id: int) -> runner_pb2.Runner:
        """Return a runner, or raise ServerError naming the id."""
        runner = self.runner_or_none(runner_id)
        if runner is None:
            raise ServerError(f"runner {runner_id} not found; list runners with `jwp runner list`")
        return runner

    def runner_or_none(self, runner_id: int) -> runner_pb2.Runner | None:
        if runner_id not in self._runners:
            self._runners[runner_id] = self.api.find_runner(runner_id)
        return self._runners[runner_id]

    def worker(self, ref: WorkerRef) -> worker_pb2.Worker:
        """Return a worker by id or name, or raise ServerError naming it."""
        if isinstance(ref, int):
            worker = self.worker_or_none(ref)
        elif ref in self._worker_ids_by_name:
            worker = self._workers[self._worker_ids_by_name[ref]]
        else:
            worker = self.api.find_worker_by_name(ref)
            if worker is not None:
                self._workers[worker.id.value] = worker
                self._worker_ids_by_name[ref] = worker.id.value
        if worker is None:
            raise ServerError(
                f"{describe_worker_ref(ref)} not found; list workers with `jwp worker list`"
            )
        return worker

    def worker_or_none(self, worker_id: int) -> worker_pb2.Worker | None:
        if worker_id not in self._workers:
            self._workers[worker_id] = self.api.find_worker(worker_id)
        return self._workers[worker_id]

    def runner_of(self, worker: worker_pb2.Worker) -> runner_pb2.Runner | None:
        return self.runner_or_none(worker.data.runner_id.value)

    def runner_of_worker_id(self, worker_id: int) -> runner_pb2.Runner | None:
        worker = self.worker_or_none(worker_id)
        return self.runner_of(worker) if worker is not None else None


def encode_settings(runner: runner_pb2.Runner, json_text: str) -> bytes:
    """Encode `--settings` JSON with the runner's settings schema."""
    return _encode(runner, runner.data.runner_settings_proto, json_text, "--settings")


def encode_args(runner: runner_pb2.Runner, json_text: str) -> bytes:
    """Encode `--args` JSON with the runner's job args schema."""
    return _encode(runner, runner.data.job_args_proto, json_text, "--args")


def _encode(runner: runner_pb2.Runner, proto_text: str, json_text: str, option: str) -> bytes:
    try:
        message_class = schema.compile_first_message(proto_text)
    except schema.SchemaError as error:
        raise ServerError(
            f"runner {runner.data.name} (id {runner.id.value}) publishes a {option} schema "
            f"that does not compile: {error}"
        ) from None
    if message_class is None:
        return json_text.encode("utf-8")

    try:
        return schema.json_to_message_bytes(proto_text, json_text, label=option)
    except schema.SchemaError as error:
        message = str(error)
        if _UNKNOWN_TOP_LEVEL_FIELD.search(message):
            fields = ", ".join(field.name for field in message_class.DESCRIPTOR.fields)
            message += f"; the fields are: {fields}"
        if _JSON_SYNTAX_ERROR not in message:
            message += f" (see the schema with `jwp runner find --id {runner.id.value}`)"
        raise InputError(message) from None


def decode_payload(proto_text: str | None, data: bytes, *, include_defaults: bool = False) -> Any:
    """Decode bytes into a JSON value with a schema text.

    Returns a dict with the declared field names, the text of raw bytes when
    the schema is empty, or `{"base64": ..., "error": ...}` when the schema is
    unknown (None) or the bytes do not match it. `include_defaults` keeps
    fields that hold their proto3 default (see `schema.message_bytes_to_dict`).
    """
    if proto_text is None:
        return {"base64": base64.b64encode(data).decode("ascii")}
    try:
        return schema.message_bytes_to_dict(proto_text, data, include_defaults=include_defaults)
    except schema.SchemaError as error:
        return {"base64": base64.b64encode(data).decode("ascii"), "error": str(error)}


def settings_of(worker: worker_pb2.Worker, runner: runner_pb2.Runner | None) -> Any:
    proto_text = runner.data.runner_settings_proto if runner is not None else None
    return decode_payload(proto_text, worker.data.runner_settings)


def args_of(args: bytes, runner: runner_pb2.Runner | None) -> Any:
    proto_text = runner.data.job_args_proto if runner is not None else None
    return decode_payload(proto_text, args)


def output_of(result: job_result_pb2.JobResult, runner: runner_pb2.Runner | None) -> Any:
    """Decode a result's output: the runner's result message on SUCCESS, else the error text.

    Fields that hold their default value are kept, so a workflow's status
    Completed (0) shows. Returns None when the result has no output, as after
    a streamed run.
    """
    if not result.data.HasField("output"):
        return None
    data = result.data.output.items
    if result.data.status != common_pb2.SUCCESS:
        return data.decode("utf-8", errors="replace")
    proto_text = runner.data.result_output_proto if runner is not None else None
    return decode_payload(proto_text, data, include_defaults=True)
