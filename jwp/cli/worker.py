"""`jwp worker`: create, change, look up and delete workers."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Annotated

import typer

from .options import (
    FILE_VALUE_HELP,
    INT64_MAX,
    INT64_MIN,
    UINT32_MAX,
    JsonOutput,
    Limit,
    Offset,
    read_text_option,
)

if TYPE_CHECKING:
    from .worker_data import RetryOptions

app = typer.Typer(
    name="worker",
    help="Manage workers: named, configured uses of a runner that jobs are enqueued for.",
    no_args_is_help=True,
)


class ResponseType(enum.StrEnum):
    """Response type of a worker, named as in the proto enum."""

    NO_RESULT = "NO_RESULT"
    DIRECT = "DIRECT"


class QueueType(enum.StrEnum):
    """Queue type of a worker, named as in the proto enum."""

    NORMAL = "NORMAL"
    WITH_BACKUP = "WITH_BACKUP"
    FORCED_RDB = "FORCED_RDB"


class RetryType(enum.StrEnum):
    """Retry type of a worker, named as in the proto enum."""

    NONE = "NONE"
    CONSTANT = "CONSTANT"
    LINEAR = "LINEAR"
    EXPONENTIAL = "EXPONENTIAL"


WorkerIdOption = Annotated[int, typer.Option("--id", "-i", min=1, max=INT64_MAX, help="Worker id.")]

Description = Annotated[str | None, typer.Option("--description", "-d", help="Free text.")]
RunnerId = Annotated[
    int | None,
    typer.Option(
        "--runner-id", "-r", min=INT64_MIN, max=INT64_MAX, help="Runner id (see `jwp runner list`)."
    ),
]
Settings = Annotated[
    str | None,
    typer.Option(
        "--settings",
        "-s",
        help="Runner settings as JSON, converted with the runner's settings schema (see `jwp "
        "runner find`). For a runner without a settings schema the text is sent as is, so '' "
        "sends empty settings. " + FILE_VALUE_HELP,
    ),
]
Response = Annotated[
    ResponseType | None,
    typer.Option(
        "--response-type",
        case_sensitive=False,
        help="DIRECT: enqueue waits for the result. NO_RESULT: enqueue returns the job id.",
    ),
]
Queue = Annotated[
    QueueType | None,
    typer.Option(
        "--queue-type",
        "-q",
        case_sensitive=False,
        help="NORMAL: in-memory (or Redis) queue. WITH_BACKUP: also a copy in the database. "
        "FORCED_RDB: database only (not with DIRECT).",
    ),
]
Channel = Annotated[
    str | None,
    typer.Option(
        "--channel", "-c", help="Channel whose dispatchers run the jobs; '' is the default channel."
    ),
]
Periodic = Annotated[
    int | None,
    typer.Option(
        "--periodic",
        "-p",
        min=0,
        max=UINT32_MAX,
        help="Run each job again every this many milliseconds (0: not periodic). Needs "
        "NO_RESULT and more than the server's JOB_QUEUE_FETCH_INTERVAL.",
    ),
]
RetryTypeOption = Annotated[
    RetryType | None,
    typer.Option(
        "--retry-type",
        case_sensitive=False,
        help="Retry jobs that fail with a retryable error. Without any --retry-* option no "
        "retry policy is sent.",
    ),
]
RetryInterval = Annotated[
    int | None,
    typer.Option(
        "--retry-interval",
        min=0,
        max=UINT32_MAX,
        help="Base delay before a retry in ms (1000 for a new retry policy).",
    ),
]
RetryMaxInterval = Annotated[
    int | None,
    typer.Option(
        "--retry-max-interval",
        min=0,
        max=UINT32_MAX,
        help="Cap of any retry delay in ms, 0 for no cap (0 for a new retry policy).",
    ),
]
RetryMax = Annotated[
    int | None,
    typer.Option(
        "--retry-max",
        min=0,
        max=UINT32_MAX,
        help="Retries after the first run, 0 for none (3 for a new retry policy).",
    ),
]
RetryBasis = Annotated[
    float | None,
    typer.Option(
        "--retry-basis",
        min=1.0,
        help="Growth factor of EXPONENTIAL delays, at least 1.0 (2.0 for a new retry policy).",
    ),
]
NextWorkers = Annotated[
    str | None,
    typer.Option(
        "--next-workers",
        help="Comma-separated worker ids or names, e.g. 3,4,Resize. Each gets a new job with "
        "this job's output as args when a job succeeds. '' clears the list.",
    ),
]


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", "-n", help="Unique worker name.")],
    runner_id: Annotated[
        int,
        typer.Option(
            "--runner-id",
            "-r",
            min=INT64_MIN,
            max=INT64_MAX,
            help="Runner id (see `jwp runner list`).",
        ),
    ],
    description: Description = "",
    settings: Settings = "",
    response_type: Response = ResponseType.DIRECT,
    store_success: Annotated[
        bool, typer.Option("--store-success", help="Store the result of a job that succeeds.")
    ] = False,
    store_failure: Annotated[
        bool, typer.Option("--store-failure", help="Store the result of a job that fails.")
    ] = False,
    broadcast_results: Annotated[
        bool,
        typer.Option(
            "--broadcast-results",
            help="Publish results for `jwp job-result listen` and `listen-by-worker`.",
        ),
    ] = False,
    use_static: Annotated[
        bool,
        typer.Option(
            "--use-static", help="Keep loaded runner instances and reuse them for later jobs."
        ),
    ] = False,
    channel: Channel = None,
    queue_type: Queue = QueueType.NORMAL,
    periodic: Periodic = 0,
    retry_type: RetryTypeOption = None,
    retry_interval: RetryInterval = None,
    retry_max_interval: RetryMaxInterval = None,
    retry_max: RetryMax = None,
    retry_basis: RetryBasis = None,
    next_workers: NextWorkers = None,
    json_output: JsonOutput = False,
) -> None:
    """Create a worker and print its id."""
    from jwp.config import DEFAULT_CHANNEL
    from jwp.proto.jobworkerp.data import worker_pb2

    from .channels import warn_if_unserved
    from .client import connect
    from .convert import Lookups
    from .errors import ServerError
    from .output import Output
    from .worker_data import WorkerOptions, apply_options

    options = WorkerOptions(
        name=name,
        description=description,
        runner_id=runner_id,
        settings=read_text_option(settings, "--settings") if settings is not None else None,
        response_type=response_type.value if response_type else None,
        queue_type=queue_type.value if queue_type else None,
        channel=channel,
        periodic_ms=periodic,
        store_success=store_success,
        store_failure=store_failure,
        broadcast_results=broadcast_results,
        use_static=use_static,
        next_workers=next_workers,
        retry=_retry_options(
            retry_type, retry_interval, retry_max_interval, retry_max, retry_basis
        ),
    )
    with connect(ctx) as api:
        lookups = Lookups(api)
        data = worker_pb2.WorkerData()
        apply_options(data, options, lookups)
        existing = api.find_worker_by_name(name)
        if existing is not None:
            raise ServerError(
                f"worker {name!r} already exists (id {existing.id.value}); choose another --name, "
                f"or change it with `jwp worker update --id {existing.id.value}`"
            )
        worker_id = api.create_worker(data)
        served = dict(api.list_channels())

    output = Output(json_mode=json_output)
    if output.json_mode:
        output.json({"worker_id": str(worker_id)})
    else:
        output.line(f"worker id: {worker_id}")
    warn_if_unserved(
        channel or DEFAULT_CHANNEL,
        served,
        api.address,
        "jobs of this worker wait until a server with that channel in WORKER_CHANNELS takes them",
    )


@app.command("update")
def update(
    ctx: typer.Context,
    worker_id: WorkerIdOption,
    name: Annotated[
        str | None, typer.Option("--name", "-n", help="New unique worker name.")
    ] = None,
    description: Description = None,
    runner_id: RunnerId = None,
    settings: Settings = None,
    response_type: Response = None,
    store_success: Annotated[
        bool | None,
        typer.Option(
            "--store-success/--no-store-success",
            help="Store results of jobs that succeed, or stop storing them.",
        ),
    ] = None,
    store_failure: Annotated[
        bool | None,
        typer.Option(
            "--store-failure/--no-store-failure",
            help="Store results of jobs that fail, or stop storing them.",
        ),
    ] = None,
    broadcast_results: Annotated[
        bool | None,
        typer.Option(
            "--broadcast-results/--no-broadcast-results",
            help="Publish results for listeners, or stop publishing them.",
        ),
    ] = None,
    use_static: Annotated[
        bool | None,
        typer.Option(
            "--use-static/--no-use-static",
            help="Reuse loaded runner instances, or load one per job.",
        ),
    ] = None,
    channel: Channel = None,
    queue_type: Queue = None,
    periodic: Periodic = None,
    retry_type: RetryTypeOption = None,
    retry_interval: RetryInterval = None,
    retry_max_interval: RetryMaxInterval = None,
    retry_max: RetryMax = None,
    retry_basis: RetryBasis = None,
    next_workers: NextWorkers = None,
    json_output: JsonOutput = False,
) -> None:
    """Change a worker: only the options given change, the others keep their values.

    Flags are switched on with --store-success and off with --no-store-success (the same for
    --store-failure, --broadcast-results and --use-static).
    """
    from jwp.proto.jobworkerp.data import worker_pb2

    from .client import connect
    from .convert import Lookups
    from .errors import ServerError
    from .output import Output, worker_card
    from .records import worker_record
    from .worker_data import WorkerOptions, apply_options

    options = WorkerOptions(
        name=name,
        description=description,
        runner_id=runner_id,
        settings=read_text_option(settings, "--settings") if settings is not None else None,
        response_type=response_type.value if response_type else None,
        queue_type=queue_type.value if queue_type else None,
        channel=channel,
        periodic_ms=periodic,
        store_success=store_success,
        store_failure=store_failure,
        broadcast_results=broadcast_results,
        use_static=use_static,
        next_workers=next_workers,
        retry=_retry_options(
            retry_type, retry_interval, retry_max_interval, retry_max, retry_basis
        ),
    )
    with connect(ctx) as api:
        lookups = Lookups(api)
        worker = worker_pb2.Worker()
        worker.CopyFrom(lookups.worker(worker_id))
        apply_options(worker.data, options, lookups)
        if not api.update_worker(worker):
            raise ServerError(
                f"worker {worker_id} was not updated; check it with `jwp worker find --id "
                f"{worker_id}`"
            )
        record = worker_record(api.find_worker(worker_id) or worker, lookups)
    Output(json_mode=json_output).item(record, worker_card(record))


def _retry_options(
    retry_type: RetryType | None,
    interval_ms: int | None,
    max_interval_ms: int | None,
    max_retry: int | None,
    basis: float | None,
) -> RetryOptions:
    from .worker_data import RetryOptions

    return RetryOptions(
        type=retry_type.value if retry_type else None,
        interval_ms=interval_ms,
        max_interval_ms=max_interval_ms,
        max_retry=max_retry,
        basis=basis,
    )


@app.command("find")
def find(ctx: typer.Context, worker_id: WorkerIdOption, json_output: JsonOutput = False) -> None:
    """Show one worker, with its settings decoded by the runner's schema."""
    from .client import connect
    from .convert import Lookups
    from .output import Output, worker_card
    from .records import worker_record

    with connect(ctx) as api:
        lookups = Lookups(api)
        record = worker_record(lookups.worker(worker_id), lookups)
    Output(json_mode=json_output).item(record, worker_card(record))


@app.command("find-by-name")
def find_by_name(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", "-n", help="Worker name.")],
    json_output: JsonOutput = False,
) -> None:
    """Show one worker, found by name."""
    from .client import connect
    from .convert import Lookups
    from .output import Output, worker_card
    from .records import worker_record

    with connect(ctx) as api:
        lookups = Lookups(api)
        record = worker_record(lookups.worker(name), lookups)
    Output(json_mode=json_output).item(record, worker_card(record))


@app.command("list")
def list_workers(
    ctx: typer.Context,
    offset: Offset = None,
    limit: Limit = None,
    channel: Annotated[
        str | None,
        typer.Option(
            "--channel", "-c", help="Only workers of this channel; '' is the default channel."
        ),
    ] = None,
    runner_types: Annotated[
        list[str] | None,
        typer.Option(
            "--runner-type",
            help="Only workers whose runner has this type, e.g. COMMAND; repeat for several.",
        ),
    ] = None,
    json_output: JsonOutput = False,
) -> None:
    """List workers, newest first."""
    from .client import connect
    from .convert import Lookups
    from .output import Output, worker_table
    from .records import worker_record

    type_values = _runner_type_values(runner_types or [])
    with connect(ctx) as api:
        lookups = Lookups(api)
        workers = api.list_workers(
            runner_types=type_values, channel=channel, limit=limit, offset=offset
        )
        records = [worker_record(worker, lookups) for worker in workers]
    Output(json_mode=json_output).items(records, worker_table(records), "workers")


def _runner_type_values(names: list[str]) -> list[int]:
    from jwp.proto.jobworkerp.data import common_pb2

    from .errors import InputError

    known = {name.upper(): value for name, value in common_pb2.RunnerType.items()}
    values = []
    for name in names:
        value = known.get(name.strip().upper())
        if value is None:
            raise InputError(f"invalid --runner-type {name!r}: use one of {', '.join(known)}")
        values.append(value)
    return values


@app.command("delete")
def delete(ctx: typer.Context, worker_id: WorkerIdOption, json_output: JsonOutput = False) -> None:
    """Delete a worker."""
    from .client import connect
    from .errors import ServerError
    from .output import Output

    with connect(ctx) as api:
        deleted = api.delete_worker(worker_id)
    if not deleted:
        raise ServerError(f"worker {worker_id} not found; list workers with `jwp worker list`")
    output = Output(json_mode=json_output)
    if output.json_mode:
        output.json({"worker_id": str(worker_id), "deleted": True})
    else:
        output.line(f"worker {worker_id} deleted")


@app.command("count")
def count(ctx: typer.Context, json_output: JsonOutput = False) -> None:
    """Print the number of workers."""
    from .client import connect
    from .output import Output

    with connect(ctx) as api:
        total = api.count_workers()
    Output(json_mode=json_output).count(total)
