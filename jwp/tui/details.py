"""What the details screen shows for a job, a job result, a worker or a runner.

Each builder fetches what it needs (the worker, then its runner's
schemas) and decodes args, settings and output to JSON with those
schemas. When a schema is missing or does not fit, the bytes show as text
with a note that gives the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text

from jwp.proto.jobworkerp.data import common_pb2, job_pb2, job_result_pb2, runner_pb2, worker_pb2

from .client import JwpClient
from .formatting import (
    NONE_SHOWN,
    channel_label,
    enum_name,
    format_duration_ms,
    format_time_ms,
    job_status_text,
    output_type_name,
    priority_name,
    result_status_text,
    runner_type_name,
)
from .schemas import Decoded, RunnerSchemas, text_of_bytes

Field = tuple[str, str | Text]


@dataclass(frozen=True)
class Section:
    """A block under the fields: decoded bytes, or a text such as a proto file."""

    title: str
    decoded: Decoded


@dataclass(frozen=True)
class Details:
    title: str
    fields: tuple[Field, ...]
    sections: tuple[Section, ...] = field(default_factory=tuple)


def _optional_text(present: bool, value: str) -> str:
    return value if present else NONE_SHOWN


def _metadata_text(metadata: Any) -> str:
    return json.dumps(dict(metadata), sort_keys=True) if metadata else NONE_SHOWN


async def _runner_of_worker(
    client: JwpClient, schemas: RunnerSchemas, worker_id: int
) -> tuple[worker_pb2.Worker | None, runner_pb2.Runner | None]:
    worker = await client.find_worker(worker_id)
    if worker is None:
        return None, None
    return worker, await schemas.find(worker.data.runner_id.value)


async def _decode_args(
    schemas: RunnerSchemas, runner: runner_pb2.Runner | None, args: bytes, missing: str
) -> Decoded:
    if runner is None:
        return Decoded(text=text_of_bytes(args)[0], note=missing)
    return await schemas.decode(runner.data.job_args_proto, args, label="args")


async def job_details(
    client: JwpClient, schemas: RunnerSchemas, job: job_pb2.Job, status: int | None
) -> Details:
    data = job.data
    worker, runner = await _runner_of_worker(client, schemas, data.worker_id.value)
    worker_text = (
        f"{worker.data.name} (#{worker.id.value})"
        if worker
        else f"#{data.worker_id.value} (deleted)"
    )
    results = await client.list_results_of_job(job.id.value)
    latest = (
        Text.assemble(f"{len(results)}, latest ", result_status_text(results[0].data.status))
        if results
        else NONE_SHOWN
    )
    fields: tuple[Field, ...] = (
        ("id", str(job.id.value)),
        ("worker", worker_text),
        ("runner", runner.data.name if runner else NONE_SHOWN),
        ("status", job_status_text(status)),
        ("priority", priority_name(data.priority)),
        ("enqueued", format_time_ms(data.enqueue_time)),
        ("run after", format_time_ms(data.run_after_time)),
        ("claimed until", format_time_ms(data.grabbed_until_time)),
        ("retried", str(data.retried)),
        ("timeout", format_duration_ms(data.timeout) if data.timeout else "none"),
        ("uniq_key", _optional_text(data.HasField("uniq_key"), data.uniq_key)),
        ("streaming", "yes" if data.request_streaming else "no"),
        ("metadata", _metadata_text(job.metadata)),
        ("stored results", latest),
    )
    missing = f"worker {data.worker_id.value} no longer exists, so the args schema is unknown"
    args = await _decode_args(schemas, runner, data.args, missing)
    return Details(title=f"Job {job.id.value}", fields=fields, sections=(Section("args", args),))


async def result_details(
    client: JwpClient, schemas: RunnerSchemas, result: job_result_pb2.JobResult
) -> Details:
    data = result.data
    _, runner = await _runner_of_worker(client, schemas, data.worker_id.value)
    duration_ms = max(0, data.end_time - data.start_time)
    fields: tuple[Field, ...] = (
        ("id", str(result.id.value)),
        ("job", str(data.job_id.value)),
        ("worker", f"{data.worker_name} (#{data.worker_id.value})"),
        ("runner", runner.data.name if runner else NONE_SHOWN),
        ("status", result_status_text(data.status)),
        ("retried", f"{data.retried} of max {data.max_retry}"),
        ("priority", priority_name(data.priority)),
        ("enqueued", format_time_ms(data.enqueue_time)),
        ("run after", format_time_ms(data.run_after_time)),
        ("started", format_time_ms(data.start_time)),
        ("ended", format_time_ms(data.end_time)),
        ("duration", format_duration_ms(duration_ms)),
        ("timeout", format_duration_ms(data.timeout) if data.timeout else "none"),
        ("uniq_key", _optional_text(data.HasField("uniq_key"), data.uniq_key)),
        ("response", enum_name(common_pb2.ResponseType, data.response_type)),
        ("streaming", "yes" if data.request_streaming else "no"),
        ("metadata", _metadata_text(result.metadata)),
    )
    missing = f"worker {data.worker_id.value} no longer exists, so its runner's schemas are unknown"
    args = await _decode_args(schemas, runner, data.args, missing)
    output = await _decode_output(schemas, runner, data, missing)
    return Details(
        title=f"Job result {result.id.value}",
        fields=fields,
        sections=(Section("args", args), Section("output", output)),
    )


async def _decode_output(
    schemas: RunnerSchemas,
    runner: runner_pb2.Runner | None,
    data: job_result_pb2.JobResultData,
    missing: str,
) -> Decoded:
    if not data.HasField("output"):
        return Decoded(text="", note="the job streamed its output, so the result carries none")
    output = data.output.items
    if data.status != common_pb2.SUCCESS:
        # A failed job's output is the error message as UTF-8 text.
        return Decoded(text=text_of_bytes(output)[0])
    if runner is None:
        return Decoded(text=text_of_bytes(output)[0], note=missing)
    proto_text = (
        runner.data.result_output_proto if runner.data.HasField("result_output_proto") else ""
    )
    return await schemas.decode(proto_text, output, label="output")


async def worker_details(client: JwpClient, schemas: RunnerSchemas, worker_id: int) -> Details:
    worker, runner = await _runner_of_worker(client, schemas, worker_id)
    if worker is None:
        return Details(title=f"Worker {worker_id}", fields=(("id", f"{worker_id} (not found)"),))
    data = worker.data
    policy = data.retry_policy
    fields: tuple[Field, ...] = (
        ("id", str(worker.id.value)),
        ("name", data.name),
        ("description", data.description or NONE_SHOWN),
        (
            "runner",
            f"{runner.data.name} (#{runner.id.value})" if runner else f"#{data.runner_id.value}",
        ),
        ("channel", channel_label(data.channel if data.HasField("channel") else "")),
        ("queue type", enum_name(common_pb2.QueueType, data.queue_type)),
        ("response type", enum_name(common_pb2.ResponseType, data.response_type)),
        (
            "periodic",
            format_duration_ms(data.periodic_interval) if data.periodic_interval else "no",
        ),
        (
            "retry",
            f"{enum_name(common_pb2.RetryType, policy.type)}, interval {policy.interval} ms, "
            f"max interval {policy.max_interval} ms, max retry {policy.max_retry}, "
            f"basis {policy.basis:g}"
            if data.HasField("retry_policy")
            else NONE_SHOWN,
        ),
        ("store success", "yes" if data.store_success else "no"),
        ("store failure", "yes" if data.store_failure else "no"),
        ("broadcast results", "yes" if data.broadcast_results else "no"),
        ("use static", "yes" if data.use_static else "no"),
        ("next workers", ", ".join(str(w.value) for w in data.next_workers) or NONE_SHOWN),
    )
    if runner is None:
        settings = Decoded(
            text=text_of_bytes(data.runner_settings)[0], note="the runner is unknown"
        )
    else:
        settings = await schemas.decode(
            runner.data.runner_settings_proto, data.runner_settings, label="settings"
        )
    return Details(
        title=f"Worker {data.name}", fields=fields, sections=(Section("settings", settings),)
    )


async def runner_details(schemas: RunnerSchemas, runner_id: int) -> Details:
    runner = await schemas.find(runner_id)
    if runner is None:
        return Details(title=f"Runner {runner_id}", fields=(("id", f"{runner_id} (not found)"),))
    data = runner.data
    fields: tuple[Field, ...] = (
        ("id", str(runner.id.value)),
        ("name", data.name),
        ("type", runner_type_name(data.runner_type)),
        ("output", output_type_name(data.output_type)),
        ("definition", data.definition or NONE_SHOWN),
        ("description", data.description or NONE_SHOWN),
    )
    sections = tuple(
        Section(title, Decoded(text=text or "(none: raw bytes)"))
        for title, text in (
            ("settings schema", data.runner_settings_proto),
            ("args schema", data.job_args_proto),
            ("result schema", data.result_output_proto),
        )
    )
    return Details(title=f"Runner {data.name}", fields=fields, sections=sections)
