"""Run tasks: `run.runner` and `run.worker` become jobs on the server's normal queue.

A run task's job goes through the same queue, channels, retries and
timeouts as any job, and the task waits for its final result:

- `run.runner` names a runner. Its `settings` and `arguments` objects are
  converted to the runner's settings and args messages with the runner's
  schema, ignoring unknown keys. A runner without a schema gets the JSON
  text. The job runs for a worker made from `options`: a temporary
  worker with a random suffix on the task name, deleted when the task ends
  (also when the workflow fails or is cancelled), or, with
  `useStatic: true`, a persistent worker named after the task that is
  created on first use and updated when the task's definition changes.
- `run.worker` names an existing worker and only gives arguments.

The result is decoded with the runner's result schema into proto3 JSON
(lowerCamelCase keys, 64-bit integers as strings, default values left
out), or taken as a string when the runner has no result schema. A job
that does not end SUCCESS fails the task with a communication error
(status 503), and so does a nested workflow whose result is Faulted.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Mapping
from typing import Any

from google.protobuf import json_format

from jwp import schema
from jwp.errors import (
    AlreadyExistsError,
    JwpError,
    NotFoundError,
    ShuttingDownError,
    WaitTimeoutError,
)
from jwp.proto.jobworkerp.data import common_pb2, job_result_pb2, runner_pb2, worker_pb2
from jwp.server.runners.base import RunnerSpec
from jwp.server.runners.host import RunnerHost

from .errors import ErrorType, WorkflowError
from .model import RunnerTarget, RunTask, WorkerOptions, WorkerTarget

logger = logging.getLogger(__name__)

MAX_WORKER_NAME_LENGTH = 128
_SUFFIX_BYTES = 6
_WORKFLOW_RUNNER_TYPES = (
    common_pb2.RunnerType.INLINE_WORKFLOW,
    common_pb2.RunnerType.REUSABLE_WORKFLOW,
)


class ServerJobRunner:
    """Runs the jobs of run tasks through the server this workflow runs in."""

    def __init__(self, host: RunnerHost, *, workflow_label: str) -> None:
        self._host = host
        self._label = workflow_label

    async def run(
        self,
        task: RunTask,
        *,
        arguments: Any,
        settings: Any,
        timeout_ms: int,
        metadata: Mapping[str, str],
    ) -> Any:
        """Run the task's job and return its decoded result.

        Raises:
            WorkflowError: The runner or worker is unknown, the arguments do not
                fit its schema, or the job did not succeed.
        """
        target = task.target
        try:
            if isinstance(target, WorkerTarget):
                worker = await self._existing_worker(target)
                spec = self._runner_of(worker)
                return await self._run_job(spec, worker, arguments, timeout_ms, metadata)
            return await self._run_with_runner(
                task, target, arguments, settings, timeout_ms, metadata
            )
        except JwpError as error:
            raise _task_error(error) from None

    async def _run_with_runner(
        self,
        task: RunTask,
        target: RunnerTarget,
        arguments: Any,
        settings: Any,
        timeout_ms: int,
        metadata: Mapping[str, str],
    ) -> Any:
        spec = self._host.require_runners().find_by_name(target.name)
        if spec is None:
            raise WorkflowError(
                ErrorType.CONFIGURATION,
                404,
                "runner not found",
                f"runner {target.name!r} does not exist; list runners with `jwp runner list`",
            )
        settings_bytes = await _encode(spec.settings_proto, settings, f"settings of {spec.name}")
        data = _worker_data(task, spec, settings_bytes, target.options)
        if target.options.use_static:
            worker = await self._static_worker(data)
            return await self._run_job(spec, worker, arguments, timeout_ms, metadata)

        worker_id = await self._create_temporary_worker(data)
        try:
            worker = worker_pb2.Worker(id=worker_pb2.WorkerId(value=worker_id), data=data)
            return await self._run_job(spec, worker, arguments, timeout_ms, metadata)
        finally:
            await _shielded(self._delete_worker(worker_id, data.name))

    async def _create_temporary_worker(self, data: worker_pb2.WorkerData) -> int:
        """Create a worker, deleting it again if the task is cancelled while it is created."""
        creation = asyncio.ensure_future(self._host.require_workers().create(data))
        try:
            return await asyncio.shield(creation)
        except asyncio.CancelledError:
            worker_id = await creation
            await self._delete_worker(worker_id, data.name)
            raise

    async def _run_job(
        self,
        spec: RunnerSpec,
        worker: worker_pb2.Worker,
        arguments: Any,
        timeout_ms: int,
        metadata: Mapping[str, str],
    ) -> Any:
        args = await _encode(spec.args_proto, arguments, f"arguments of {spec.name}")
        jobs = self._host.require_jobs()
        logger.debug("%s: running a job for worker %r", self._label, worker.data.name)
        try:
            result = await jobs.run_for_result(worker, args, metadata, timeout_ms=timeout_ms)
        except WaitTimeoutError as error:
            raise WorkflowError(ErrorType.TIMEOUT, 408, "job timed out", str(error)) from None
        return await _decode_result(spec, result)

    async def _existing_worker(self, target: WorkerTarget) -> worker_pb2.Worker:
        worker = await self._host.require_workers().find_by_name(target.name)
        if worker is None:
            raise WorkflowError(
                ErrorType.CONFIGURATION,
                404,
                "worker not found",
                f"worker {target.name!r} does not exist; create it with `jwp worker create` "
                "or use run.runner",
            )
        if worker.data.periodic_interval:
            raise WorkflowError(
                ErrorType.CONFIGURATION,
                400,
                "periodic worker",
                f"worker {target.name!r} is periodic, so its jobs repeat and no single result "
                "ends them; use a worker without periodic_interval",
            )
        return worker

    def _runner_of(self, worker: worker_pb2.Worker) -> RunnerSpec:
        spec = self._host.require_runners().find(worker.data.runner_id.value)
        if spec is None:
            raise WorkflowError(
                ErrorType.CONFIGURATION,
                404,
                "runner not found",
                f"worker {worker.data.name!r} uses runner {worker.data.runner_id.value}, "
                "which this server does not have",
            )
        return spec

    async def _static_worker(self, data: worker_pb2.WorkerData) -> worker_pb2.Worker:
        """Find the task's persistent worker, creating or updating it to match the task."""
        workers = self._host.require_workers()
        existing = await workers.find_by_name(data.name)
        if existing is None:
            try:
                worker_id = await workers.create(data)
            except AlreadyExistsError:
                # Parallel iterations may race to create it; use the winner's.
                existing = await workers.find_by_name(data.name)
                if existing is None:
                    raise
            else:
                logger.info("%s: created static worker %r", self._label, data.name)
                return worker_pb2.Worker(id=worker_pb2.WorkerId(value=worker_id), data=data)
        if existing.data.runner_id.value != data.runner_id.value:
            raise WorkflowError(
                ErrorType.CONFIGURATION,
                409,
                "worker name taken",
                f"worker {data.name!r} exists with runner {existing.data.runner_id.value}, so "
                "this static run task cannot use its name; rename the task or the worker",
            )
        if _definition(existing.data) != _definition(data):
            updated = worker_pb2.Worker(id=existing.id, data=data)
            await workers.update(updated)
            logger.info(
                "%s: updated static worker %r to the task's options", self._label, data.name
            )
            return updated
        return existing

    async def _delete_worker(self, worker_id: int, name: str) -> None:
        try:
            await self._host.require_workers().delete(worker_id)
        except Exception:
            logger.exception("%s: deleting temporary worker %r failed", self._label, name)


def _worker_data(
    task: RunTask, spec: RunnerSpec, settings: bytes, options: WorkerOptions
) -> worker_pb2.WorkerData:
    name = task.name if options.use_static else _temporary_name(task.name)
    data = worker_pb2.WorkerData(
        name=name,
        description=f"worker of workflow task {task.path}",
        runner_id=runner_pb2.RunnerId(value=spec.id),
        runner_settings=settings,
        queue_type=common_pb2.WITH_BACKUP if options.with_backup else common_pb2.NORMAL,
        response_type=common_pb2.DIRECT,
        store_success=options.store_success,
        store_failure=options.store_failure,
        use_static=options.use_static,
        broadcast_results=options.broadcast_results,
    )
    if options.channel:
        data.channel = options.channel
    if options.retry is not None:
        data.retry_policy.CopyFrom(options.retry.to_proto())
    return data


def _temporary_name(task_name: str) -> str:
    suffix = secrets.token_hex(_SUFFIX_BYTES)
    prefix = task_name[: MAX_WORKER_NAME_LENGTH - len(suffix) - 1]
    return f"{prefix}-{suffix}"


def _definition(data: worker_pb2.WorkerData) -> bytes:
    return data.SerializeToString(deterministic=True)


async def _encode(proto_text: str, value: Any, label: str) -> bytes:
    """Convert settings or arguments into message bytes (JSON text when there is no schema)."""
    if value is None:
        return b""
    json_text = json.dumps(value, ensure_ascii=False)
    try:
        return await asyncio.to_thread(
            schema.json_to_message_bytes,
            proto_text,
            json_text,
            ignore_unknown_fields=True,
            label=label,
        )
    except schema.SchemaError as error:
        raise WorkflowError(ErrorType.VALIDATION, 400, "invalid run values", str(error)) from None


async def _decode_result(spec: RunnerSpec, result: job_result_pb2.JobResult) -> Any:
    data = result.data
    output = data.output.items
    if data.status != common_pb2.SUCCESS:
        status = common_pb2.ResultStatus.Name(data.status)
        message = output.decode("utf-8", "replace")
        raise WorkflowError(
            ErrorType.COMMUNICATION,
            503,
            "service unavailable",
            f"job {data.job_id.value} of worker {data.worker_name!r} ended with {status}: "
            f"{message}",
        )
    if not spec.result_proto:
        return output.decode("utf-8", "replace")
    try:
        decoded = await asyncio.to_thread(_result_json, spec, output)
    except schema.SchemaError as error:
        raise WorkflowError(
            ErrorType.COMMUNICATION, 502, "invalid job result", str(error)
        ) from None
    if spec.runner_type in _WORKFLOW_RUNNER_TYPES and decoded.get("status") == "Faulted":
        raise WorkflowError(
            ErrorType.COMMUNICATION,
            503,
            "nested workflow faulted",
            f"job {data.job_id.value} of worker {data.worker_name!r}: "
            f"{decoded.get('errorMessage', 'no error message')}",
        )
    return decoded


def _result_json(spec: RunnerSpec, output: bytes) -> dict[str, Any]:
    """Decode result bytes into proto3 JSON: lowerCamelCase keys, defaults left out."""
    assert spec.result_proto is not None
    message = schema.decode_message(spec.result_proto, output, label=f"result of {spec.name}")
    assert message is not None
    pool = message.DESCRIPTOR.file.pool
    decoded: dict[str, Any] = json_format.MessageToDict(message, descriptor_pool=pool)  # type: ignore[arg-type]
    return decoded


def _task_error(error: JwpError) -> WorkflowError:
    """Turn a server error (invalid worker, unknown channel, shutdown) into a task error."""
    if isinstance(error, ShuttingDownError):
        return WorkflowError(ErrorType.RUNTIME, 503, "server shutting down", str(error))
    status = 404 if isinstance(error, NotFoundError) else 400
    return WorkflowError(ErrorType.CONFIGURATION, status, "job could not be run", str(error))


async def _shielded(cleanup: Any) -> None:
    """Run a cleanup to its end even when the task running it is being cancelled."""
    task = asyncio.ensure_future(cleanup)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise
