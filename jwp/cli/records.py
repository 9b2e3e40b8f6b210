"""Runners, workers, jobs and results as plain JSON values, the source of every output.

The help of `--json` repeats these conventions. Ids are strings, because
64-bit ids exceed the exact range of JSON numbers in many parsers. Times and
durations are numbers of (epoch) milliseconds, and enums are their names.
Args, settings and outputs are decoded with the runner's schemas into
objects with the proto field names, where 64-bit integers are strings as in
the proto3 JSON mapping.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

from jwp.proto.jobworkerp.data import common_pb2, job_pb2, job_result_pb2, runner_pb2, worker_pb2

from .convert import Lookups, args_of, output_of, settings_of

Record = dict[str, Any]


def enum_name(enum_type: EnumTypeWrapper, value: int) -> str:
    """Return the name of an enum value, or the number as text when this client does not know it."""
    try:
        return enum_type.Name(value)
    except ValueError:
        return str(value)


def runner_record(runner: runner_pb2.Runner) -> Record:
    data = runner.data
    return {
        "id": str(runner.id.value),
        "name": data.name,
        "description": data.description,
        "runner_type": enum_name(common_pb2.RunnerType, data.runner_type),
        "output_type": enum_name(runner_pb2.StreamingOutputType, data.output_type),
        "definition": data.definition,
        "runner_settings_proto": data.runner_settings_proto,
        "job_args_proto": data.job_args_proto,
        "result_output_proto": (
            data.result_output_proto if data.HasField("result_output_proto") else None
        ),
    }


def worker_record(worker: worker_pb2.Worker, lookups: Lookups) -> Record:
    data = worker.data
    runner = lookups.runner_of(worker)
    return {
        "id": str(worker.id.value),
        "name": data.name,
        "description": data.description,
        "runner_id": str(data.runner_id.value),
        "runner_name": runner.data.name if runner is not None else None,
        "runner_settings": settings_of(worker, runner),
        "retry_policy": _retry_policy_record(data) if data.HasField("retry_policy") else None,
        "periodic_interval": data.periodic_interval,
        "channel": data.channel if data.HasField("channel") else None,
        "queue_type": enum_name(common_pb2.QueueType, data.queue_type),
        "response_type": enum_name(common_pb2.ResponseType, data.response_type),
        "store_success": data.store_success,
        "store_failure": data.store_failure,
        "use_static": data.use_static,
        "broadcast_results": data.broadcast_results,
        "next_workers": [str(next_worker.value) for next_worker in data.next_workers],
    }


def _retry_policy_record(data: worker_pb2.WorkerData) -> Record:
    policy = data.retry_policy
    return {
        "type": enum_name(common_pb2.RetryType, policy.type),
        "interval": policy.interval,
        "max_interval": policy.max_interval,
        "max_retry": policy.max_retry,
        # float32 on the wire: round away the noise of 2.0999999 and the like.
        "basis": round(policy.basis, 6),
    }


def job_record(job: job_pb2.Job, lookups: Lookups) -> Record:
    data = job.data
    worker = lookups.worker_or_none(data.worker_id.value)
    runner = lookups.runner_of(worker) if worker is not None else None
    return {
        "id": str(job.id.value),
        "worker_id": str(data.worker_id.value),
        "worker_name": worker.data.name if worker is not None else None,
        "args": args_of(data.args, runner),
        "uniq_key": data.uniq_key if data.HasField("uniq_key") else None,
        "enqueue_time": data.enqueue_time,
        "grabbed_until_time": (
            data.grabbed_until_time if data.HasField("grabbed_until_time") else None
        ),
        "run_after_time": data.run_after_time,
        "retried": data.retried,
        "priority": enum_name(common_pb2.Priority, data.priority),
        "timeout": data.timeout,
        "request_streaming": data.request_streaming,
        "metadata": dict(job.metadata),
    }


def job_status_name(status: int | None) -> str | None:
    return enum_name(common_pb2.JobStatus, status) if status is not None else None


def job_result_record(result: job_result_pb2.JobResult, lookups: Lookups) -> Record:
    data = result.data
    runner = lookups.runner_of_worker_id(data.worker_id.value)
    return {
        "id": str(result.id.value),
        "job_id": str(data.job_id.value),
        "worker_id": str(data.worker_id.value),
        "worker_name": data.worker_name,
        "status": enum_name(common_pb2.ResultStatus, data.status),
        "args": args_of(data.args, runner),
        "output": output_of(result, runner),
        "uniq_key": data.uniq_key if data.HasField("uniq_key") else None,
        "retried": data.retried,
        "max_retry": data.max_retry,
        "priority": enum_name(common_pb2.Priority, data.priority),
        "timeout": data.timeout,
        "request_streaming": data.request_streaming,
        "enqueue_time": data.enqueue_time,
        "run_after_time": data.run_after_time,
        "start_time": data.start_time,
        "end_time": data.end_time,
        "response_type": enum_name(common_pb2.ResponseType, data.response_type),
        "store_success": data.store_success,
        "store_failure": data.store_failure,
        "metadata": dict(result.metadata),
    }
