"""`jwp job`: enqueue jobs, look them up, and cancel them."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Annotated

import typer

from .options import (
    FILE_VALUE_HELP,
    INT64_MAX,
    WORKER_REF_HELP,
    JsonOutput,
    Limit,
    Offset,
    read_text_option,
)

if TYPE_CHECKING:
    from jwp.proto.jobworkerp.service import job_pb2 as job_service_pb2

    from .convert import Lookups

app = typer.Typer(
    name="job",
    help="Enqueue, inspect and delete jobs.",
    no_args_is_help=True,
)


class Priority(enum.StrEnum):
    """Job priority; `middle` is the name that jobworkerp-client uses for medium."""

    HIGH = "high"
    MEDIUM = "medium"
    MIDDLE = "middle"
    LOW = "low"


_PRIORITY_NAMES = {
    Priority.HIGH: "PRIORITY_HIGH",
    Priority.MEDIUM: "PRIORITY_MEDIUM",
    Priority.MIDDLE: "PRIORITY_MEDIUM",
    Priority.LOW: "PRIORITY_LOW",
}

JobIdOption = Annotated[int, typer.Option("--id", "-i", min=1, max=INT64_MAX, help="Job id.")]


WorkerOption = Annotated[str, typer.Option("--worker", "-w", help=WORKER_REF_HELP)]
ArgsOption = Annotated[
    str,
    typer.Option(
        "--args",
        "-a",
        help="Job args as JSON, converted with the runner's args schema (see `jwp runner "
        'find`), e.g. \'{"command":"echo","args":["Hello"]}\' for COMMAND. For a runner '
        "without an args schema the text is sent as is. " + FILE_VALUE_HELP,
    ),
]
UniqueKeyOption = Annotated[
    str | None,
    typer.Option("--unique-key", "-u", help="Key that rejects a second job with the same key."),
]
RunAfterTimeOption = Annotated[
    str | None,
    typer.Option(
        "--run-after-time",
        "-r",
        help="Do not start before this time: epoch milliseconds, an ISO 8601 time (UTC "
        "unless it has an offset) or an offset from now such as +500ms, +30s, +5m, +2h. "
        "Not for DIRECT workers.",
    ),
]
PriorityOption = Annotated[
    Priority | None,
    typer.Option(
        "--priority",
        "-p",
        case_sensitive=False,
        help="Queue priority, medium when left out. middle is the same as medium.",
    ),
]
JobTimeoutOption = Annotated[
    int | None,
    typer.Option(
        "--timeout",
        "-t",
        min=0,
        max=INT64_MAX,
        help="Time limit of the run in milliseconds, one year when left out. 0 means no limit.",
    ),
]


@app.command("enqueue")
def enqueue(
    ctx: typer.Context,
    worker: WorkerOption,
    args: ArgsOption = "",
    unique_key: UniqueKeyOption = None,
    run_after_time: RunAfterTimeOption = None,
    priority: PriorityOption = None,
    timeout: JobTimeoutOption = None,
    json_output: JsonOutput = False,
) -> None:
    """Enqueue a job. For a DIRECT worker wait and print the result, else print the job id."""
    from .client import connect
    from .convert import Lookups
    from .errors import ServerError
    from .output import Output, result_card
    from .records import job_result_record

    args = read_text_option(args, "--args")
    with connect(ctx) as api:
        lookups = Lookups(api)
        request = _job_request(lookups, worker, args, unique_key, run_after_time, priority, timeout)
        _warn_if_wait_cannot_end(lookups, request.worker_id.value, streamed=False)
        response = api.enqueue(request)
        result = (
            job_result_record(response.result, lookups) if response.HasField("result") else None
        )

    output = Output(json_mode=json_output)
    if result is None:
        if output.json_mode:
            output.json({"job_id": str(response.id.value)})
        else:
            output.line(f"job id: {response.id.value}")
        return
    output.item(result, result_card(result))
    if result["status"] != "SUCCESS":
        raise ServerError(
            f"job {result['job_id']} failed with status {result['status']}; see the output above"
        )


@app.command("enqueue-for-stream")
def enqueue_for_stream(
    ctx: typer.Context,
    worker: WorkerOption,
    args: ArgsOption = "",
    unique_key: UniqueKeyOption = None,
    run_after_time: RunAfterTimeOption = None,
    priority: PriorityOption = None,
    timeout: JobTimeoutOption = None,
    json_output: JsonOutput = False,
) -> None:
    """Enqueue a job and print each chunk of its output as it arrives, then its result.

    The runner must stream (output type STREAMING or BOTH, e.g. COMMAND: one
    chunk per output line). Chunks are decoded with the runner's result schema.
    With --json each chunk is a line {"chunk": ...} and the last line is
    {"result": ...}. The job id goes to stderr as soon as the server has
    queued the job, so `jwp job delete --id` can cancel it from elsewhere.
    """
    from .client import connect
    from .convert import Lookups
    from .streams import print_output_stream

    args = read_text_option(args, "--args")
    with connect(ctx) as api:
        lookups = Lookups(api)
        request = _job_request(lookups, worker, args, unique_key, run_after_time, priority, timeout)
        runner = lookups.runner_of_worker_id(request.worker_id.value)
        _warn_if_wait_cannot_end(lookups, request.worker_id.value, streamed=True)
        stream = api.enqueue_for_stream(request)
        print_output_stream(stream, runner, lookups, json_mode=json_output, announce_job_id=True)


def _warn_if_wait_cannot_end(lookups: Lookups, worker_id: int, *, streamed: bool) -> None:
    """Warn before a wait for a job that no process runs because none runs its channel.

    `jwp job enqueue` waits only for a DIRECT worker's job, while
    `enqueue-for-stream` waits for the output of any job.
    """
    from jwp.config import DEFAULT_CHANNEL
    from jwp.proto.jobworkerp.data import common_pb2

    from .channels import warn_if_unserved

    target = lookups.worker_or_none(worker_id)
    if target is None or not (streamed or target.data.response_type == common_pb2.DIRECT):
        return
    warn_if_unserved(
        target.data.channel or DEFAULT_CHANNEL,
        dict(lookups.api.list_channels()),
        lookups.api.address,
        "this command waits until a server with that channel in WORKER_CHANNELS runs the job. "
        "Stop waiting with Ctrl+C (the job stays queued), or bound the wait with the global "
        "--timeout",
    )


def _job_request(
    lookups: Lookups,
    worker: str,
    args: str,
    unique_key: str | None,
    run_after_time: str | None,
    priority: Priority | None,
    timeout: int | None,
) -> job_service_pb2.JobRequest:
    """Build a JobRequest from the enqueue options, encoding the args with the runner's schema."""
    from jwp.proto.jobworkerp.service import job_pb2 as job_service_pb2

    from .convert import encode_args, parse_worker_ref
    from .errors import InputError
    from .times import parse_time_ms

    worker_ref = parse_worker_ref(worker)
    if unique_key == "":
        raise InputError("--unique-key is empty; leave it out or give a key")
    run_after_ms = parse_time_ms(run_after_time, "--run-after-time") if run_after_time else None
    target = lookups.worker(worker_ref)
    # The job names the worker by the id that was resolved, so it runs on the
    # worker whose schema encoded the args even if a name changes.
    return job_service_pb2.JobRequest(
        worker_id=target.id,
        args=encode_args(lookups.runner(target.data.runner_id.value), args),
        uniq_key=unique_key,
        run_after_time=run_after_ms,
        priority=_PRIORITY_NAMES[priority] if priority else None,
        timeout=timeout,
    )


@app.command("find")
def find(ctx: typer.Context, job_id: JobIdOption, json_output: JsonOutput = False) -> None:
    """Show a job that the server keeps in its database, with its status."""
    from .client import connect
    from .convert import Lookups
    from .errors import ServerError
    from .output import Output, job_card
    from .records import job_record, job_status_name

    with connect(ctx) as api:
        job = api.find_job(job_id)
        if job is None:
            raise ServerError(
                f"job {job_id} not found. Only jobs kept in the database can be found: jobs "
                "that run later, periodic jobs and WITH_BACKUP or FORCED_RDB jobs; see queued "
                "jobs with `jwp job find-queue-list`"
            )
        record = job_record(job, Lookups(api))
        record["status"] = job_status_name(api.find_job_status(job_id))
    Output(json_mode=json_output).item(record, job_card(record))


@app.command("list")
def list_jobs(
    ctx: typer.Context,
    offset: Offset = None,
    limit: Limit = None,
    json_output: JsonOutput = False,
) -> None:
    """List the jobs kept in the database (run later, periodic, WITH_BACKUP, FORCED_RDB)."""
    from .client import connect
    from .convert import Lookups
    from .output import Output, job_table
    from .records import job_record

    with connect(ctx) as api:
        lookups = Lookups(api)
        records = [job_record(job, lookups) for job in api.list_jobs(limit=limit, offset=offset)]
    Output(json_mode=json_output).items(records, job_table(records), "jobs")


@app.command("find-queue-list")
def find_queue_list(
    ctx: typer.Context,
    channel: Annotated[
        str | None,
        typer.Option(
            "--channel",
            "-c",
            help="Channel whose queue is listed; the default channel when left out.",
        ),
    ] = None,
    limit: Limit = None,
    json_output: JsonOutput = False,
) -> None:
    """List the jobs waiting in a channel's queue, with their status."""
    from .client import connect
    from .convert import Lookups
    from .output import Output, job_table
    from .records import job_record, job_status_name

    with connect(ctx) as api:
        lookups = Lookups(api)
        records = []
        for item in api.find_queue_list(channel=channel, limit=limit):
            record = job_record(item.job, lookups)
            record["status"] = job_status_name(item.status if item.HasField("status") else None)
            records.append(record)
    Output(json_mode=json_output).items(
        records, job_table(records, with_status=True), "queued jobs"
    )


@app.command("status")
def status(ctx: typer.Context, job_id: JobIdOption, json_output: JsonOutput = False) -> None:
    """Print the status of a job: PENDING, RUNNING or WAIT_RESULT, or none once it finished."""
    from .client import connect
    from .output import Output
    from .records import job_status_name

    with connect(ctx) as api:
        name = job_status_name(api.find_job_status(job_id))
    output = Output(json_mode=json_output)
    if output.json_mode:
        output.json({"job_id": str(job_id), "status": name})
    elif name is None:
        output.line(
            f"job {job_id}: no status (not queued or running: finished, deleted or unknown)"
        )
    else:
        output.line(f"job {job_id}: {name}")


@app.command("status-all")
def status_all(ctx: typer.Context, json_output: JsonOutput = False) -> None:
    """List the status of every job that is queued or running."""
    from .client import connect
    from .output import Output, job_status_table
    from .records import job_status_name

    with connect(ctx) as api:
        records = [
            {"job_id": str(item.id.value), "status": job_status_name(item.status)}
            for item in api.find_all_job_statuses()
        ]
    Output(json_mode=json_output).items(records, job_status_table(records), "job statuses")


@app.command("delete")
def delete(ctx: typer.Context, job_id: JobIdOption, json_output: JsonOutput = False) -> None:
    """Delete a job; a pending or running job is cancelled, and a periodic job stops."""
    from .client import connect
    from .errors import ServerError
    from .output import Output

    with connect(ctx) as api:
        deleted = api.delete_job(job_id)
    if not deleted:
        raise ServerError(
            f"job {job_id} not found: it finished already or never existed; see its results "
            f"with `jwp job-result list-by-job-id --job-id {job_id}`"
        )
    output = Output(json_mode=json_output)
    if output.json_mode:
        output.json({"job_id": str(job_id), "deleted": True})
    else:
        output.line(f"job {job_id} deleted")


@app.command("count")
def count(ctx: typer.Context, json_output: JsonOutput = False) -> None:
    """Print the number of jobs kept in the database."""
    from .client import connect
    from .output import Output

    with connect(ctx) as api:
        total = api.count_jobs()
    Output(json_mode=json_output).count(total)


IncludeGrabbedOption = Annotated[
    bool,
    typer.Option(
        "--include-grabbed",
        help="Also include jobs whose claim by a dispatcher has not expired; they may be running.",
    ),
]


@app.command("list-restorable")
def list_restorable(
    ctx: typer.Context,
    include_grabbed: IncludeGrabbedOption = False,
    limit: Limit = None,
    json_output: JsonOutput = False,
) -> None:
    """List the jobs that `jwp job restore` would queue again, changing nothing.

    These are WITH_BACKUP jobs whose database copy is due but that are in no
    queue any more, for example after the queue's Redis lost its data.
    """
    from .client import connect
    from .convert import Lookups
    from .output import Output, job_table
    from .records import job_record

    with connect(ctx) as api:
        lookups = Lookups(api)
        jobs = api.list_restorable_jobs(include_grabbed=include_grabbed, limit=limit)
        records = [job_record(job, lookups) for job in jobs]
    Output(json_mode=json_output).items(records, job_table(records), "restorable jobs")


@app.command("restore")
def restore(
    ctx: typer.Context,
    include_grabbed: IncludeGrabbedOption = False,
    limit: Limit = None,
    json_output: JsonOutput = False,
) -> None:
    """Queue again the WITH_BACKUP jobs that the queue lost (see `jwp job list-restorable`).

    A job whose worker is no longer WITH_BACKUP is made due in the database
    instead, and the server runs it from there.
    """
    from .client import connect
    from .errors import ServerError
    from .output import Output

    with connect(ctx) as api:
        restored = api.restore_jobs(include_grabbed=include_grabbed, limit=limit)
    if not restored:
        raise ServerError("JobRestoreService/Restore reported no success; see the server's log")
    output = Output(json_mode=json_output)
    if output.json_mode:
        output.json({"restored": True})
    else:
        output.line("restore done; see the queued jobs with `jwp job find-queue-list`")
