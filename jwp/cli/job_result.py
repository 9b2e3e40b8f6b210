"""`jwp job-result`: stored results, and listening for new ones."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from .options import INT64_MAX, WORKER_REF_HELP, JsonOutput, Limit, Offset

if TYPE_CHECKING:
    from jwp.proto.jobworkerp.data import job_result_pb2, worker_pb2

    from .convert import Lookups, WorkerRef
    from .output import Output

app = typer.Typer(
    name="job-result",
    help="Read stored job results and listen for the results of running jobs.",
    no_args_is_help=True,
)

ResultIdOption = Annotated[
    int, typer.Option("--id", "-i", min=1, max=INT64_MAX, help="Job result id.")
]
JobIdOption = Annotated[int, typer.Option("--job-id", "-j", min=1, max=INT64_MAX, help="Job id.")]
WorkerOption = Annotated[str, typer.Option("--worker", "-w", help=WORKER_REF_HELP)]

LISTENING_MESSAGE = "listening... (Ctrl+C to stop)"


@app.command("find")
def find(ctx: typer.Context, result_id: ResultIdOption, json_output: JsonOutput = False) -> None:
    """Show one stored job result, with its args and output decoded."""
    from .client import connect
    from .convert import Lookups
    from .errors import ServerError
    from .output import Output, result_card
    from .records import job_result_record

    with connect(ctx) as api:
        result = api.find_result(result_id)
        if result is None:
            raise ServerError(
                f"job result {result_id} not found; list results with `jwp job-result list`"
            )
        record = job_result_record(result, Lookups(api))
    Output(json_mode=json_output).item(record, result_card(record))


@app.command("list")
def list_results(
    ctx: typer.Context,
    offset: Offset = None,
    limit: Limit = None,
    json_output: JsonOutput = False,
) -> None:
    """List stored job results, newest first."""
    from .client import connect
    from .convert import Lookups
    from .output import Output, result_table
    from .records import job_result_record

    with connect(ctx) as api:
        lookups = Lookups(api)
        results = api.list_results(limit=limit, offset=offset)
        records = [job_result_record(result, lookups) for result in results]
    Output(json_mode=json_output).items(records, result_table(records), "job results")


@app.command("list-by-job-id")
def list_by_job_id(
    ctx: typer.Context, job_id: JobIdOption, json_output: JsonOutput = False
) -> None:
    """List the stored results of one job (retries and periodic runs give several)."""
    from .client import connect
    from .convert import Lookups
    from .output import Output, result_table
    from .records import job_result_record

    with connect(ctx) as api:
        lookups = Lookups(api)
        records = [
            job_result_record(result, lookups) for result in api.list_results_by_job_id(job_id)
        ]
    Output(json_mode=json_output).items(records, result_table(records), f"results of job {job_id}")


@app.command("listen")
def listen(
    ctx: typer.Context,
    job_id: JobIdOption,
    worker: WorkerOption,
    timeout: Annotated[
        int | None,
        typer.Option(
            "--timeout",
            "-t",
            min=1,
            max=INT64_MAX,
            help="Give up after this many milliseconds; when left out, after the server's "
            "JOB_QUEUE_EXPIRE_JOB_RESULT_SECONDS.",
        ),
    ] = None,
    json_output: JsonOutput = False,
) -> None:
    """Wait for the result of a job and print it; a finished job's stored result comes at once.

    The worker must broadcast its results (`--broadcast-results`).
    """
    from jwp.proto.jobworkerp.data import job_pb2
    from jwp.proto.jobworkerp.service import job_result_pb2 as result_service_pb2

    from .client import connect
    from .convert import Lookups, parse_worker_ref
    from .errors import ServerError
    from .output import Output, result_card
    from .records import job_result_record

    worker_ref = parse_worker_ref(worker)
    with connect(ctx) as api:
        lookups = Lookups(api)
        target = _broadcasting_worker(lookups, worker_ref)
        request = result_service_pb2.ListenRequest(
            job_id=job_pb2.JobId(value=job_id), worker_id=target.id, timeout=timeout
        )
        record = job_result_record(api.listen(request), lookups)
    Output(json_mode=json_output).item(record, result_card(record))
    if record["status"] != "SUCCESS":
        raise ServerError(
            f"job {job_id} failed with status {record['status']}; see the output above"
        )


@app.command("listen-stream")
def listen_stream(
    ctx: typer.Context,
    job_id: JobIdOption,
    worker: WorkerOption,
    timeout: Annotated[
        int | None,
        typer.Option(
            "--timeout",
            "-t",
            min=1,
            max=INT64_MAX,
            help="Give up after this many milliseconds; when left out, after the server's "
            "JOB_QUEUE_EXPIRE_JOB_RESULT_SECONDS.",
        ),
    ] = None,
    json_output: JsonOutput = False,
) -> None:
    """Print each chunk of a running job's streamed output as it arrives, then its result.

    The worker must broadcast its results (`--broadcast-results`). Chunks
    streamed before the command started are not shown; a job that has
    finished, or does not stream, shows only its result. With --json each
    chunk is a line {"chunk": ...} and the last line is {"result": ...}.
    """
    from jwp.proto.jobworkerp.data import job_pb2
    from jwp.proto.jobworkerp.service import job_result_pb2 as result_service_pb2

    from .client import connect
    from .convert import Lookups, parse_worker_ref
    from .streams import print_output_stream

    worker_ref = parse_worker_ref(worker)
    with connect(ctx) as api:
        lookups = Lookups(api)
        target = _broadcasting_worker(lookups, worker_ref)
        request = result_service_pb2.ListenRequest(
            job_id=job_pb2.JobId(value=job_id), worker_id=target.id, timeout=timeout
        )
        stream = api.listen_stream(request)
        # The server sends the job id once it is subscribed, so every chunk
        # streamed after this message is printed.
        if stream.job_id() is not None:
            typer.echo(f"listening to job {job_id}...", err=True)
        print_output_stream(stream, lookups.runner_of(target), lookups, json_mode=json_output)


@app.command("listen-by-worker")
def listen_by_worker(
    ctx: typer.Context, worker: WorkerOption, json_output: JsonOutput = False
) -> None:
    """Print every result of a worker as it arrives, until Ctrl+C.

    Only results of jobs that finish after the start are printed. With --json each result
    is one JSON object on its own line.
    """
    try:
        _listen_by_worker(ctx, worker, json_output)
    except KeyboardInterrupt:
        # Ctrl+C is how this command is meant to end, so it is no error.
        return


def _listen_by_worker(ctx: typer.Context, worker: str, json_output: bool) -> None:
    from jwp.proto.jobworkerp.service import job_result_pb2 as result_service_pb2

    from .client import connect
    from .convert import Lookups, parse_worker_ref
    from .errors import UnreachableError
    from .output import Output

    output = Output(json_mode=json_output)
    worker_ref = parse_worker_ref(worker)
    with connect(ctx) as api:
        lookups = Lookups(api)
        target = _broadcasting_worker(lookups, worker_ref)
        stream = api.listen_by_worker(result_service_pb2.ListenByWorkerRequest(worker_id=target.id))
        # The server sends its headers once it has subscribed, so every result
        # published after this message is printed reaches the stream.
        stream.wait_subscribed()
        typer.echo(LISTENING_MESSAGE, err=True)
        try:
            for result in stream:
                _print_streamed(output, result, lookups)
        finally:
            stream.cancel()
    raise UnreachableError(
        f"the server at {api.address} ended the stream, probably because it is stopping; "
        "run the command again to keep listening"
    )


def _print_streamed(output: Output, result: job_result_pb2.JobResult, lookups: Lookups) -> None:
    from .output import result_card
    from .records import job_result_record

    record = job_result_record(result, lookups)
    if output.json_mode:
        output.json_line(record)
    else:
        output.show(result_card(record))


def _broadcasting_worker(lookups: Lookups, worker_ref: WorkerRef) -> worker_pb2.Worker:
    """Return the worker, or raise ServerError when it does not broadcast its results."""
    from .errors import ServerError

    worker = lookups.worker(worker_ref)
    if not worker.data.broadcast_results:
        raise ServerError(
            f"worker {worker.data.name!r} does not broadcast its results, so they cannot be "
            f"listened to; switch it on with `jwp worker update --id {worker.id.value} "
            "--broadcast-results`"
        )
    return worker


@app.command("delete")
def delete(ctx: typer.Context, result_id: ResultIdOption, json_output: JsonOutput = False) -> None:
    """Delete a stored job result."""
    from .client import connect
    from .errors import ServerError
    from .output import Output

    with connect(ctx) as api:
        deleted = api.delete_result(result_id)
    if not deleted:
        raise ServerError(
            f"job result {result_id} not found; list results with `jwp job-result list`"
        )
    output = Output(json_mode=json_output)
    if output.json_mode:
        output.json({"job_result_id": str(result_id), "deleted": True})
    else:
        output.line(f"job result {result_id} deleted")


@app.command("count")
def count(ctx: typer.Context, json_output: JsonOutput = False) -> None:
    """Print the number of stored job results."""
    from .client import connect
    from .output import Output

    with connect(ctx) as api:
        total = api.count_results()
    Output(json_mode=json_output).count(total)
