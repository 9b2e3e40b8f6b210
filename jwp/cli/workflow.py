"""`jwp workflow validate` and `jwp job enqueue-workflow`: check and run workflow documents.

`enqueue-workflow` runs a workflow once without a worker of the user's.
It creates a temporary INLINE_WORKFLOW worker, enqueues the job and waits
for its result with Listen. Then it deletes the worker, also after an
error or Ctrl+C, which cancels the job too. A local file is read here and
sent as `workflow_data`, so relative paths start at the caller's
directory, the server need not see the file, and the document is checked
before anything is created. An http(s) URL is sent as `workflow_url` for
the server to fetch.

NOTE: the command waits with Listen, so it prints the final result only,
not each task as it finishes; EnqueueForStream, which the server now has
(see `jwp job enqueue-for-stream`), could stream the tasks.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .options import FILE_VALUE_HELP, INT64_MAX, JsonOutput, read_text_option

if TYPE_CHECKING:
    from jwp.proto.jobworkerp.data import job_result_pb2

    from .client import Api
    from .output import Output

app = typer.Typer(
    name="workflow",
    help="Check workflow documents (Serverless Workflow YAML or JSON) without running them.",
    no_args_is_help=True,
)

DEFAULT_WORKFLOW_TIMEOUT_MS = 3_600_000
"""Time limit of an enqueue-workflow job without --timeout: one hour, as in jobworkerp-client."""

# Extra time the wait for the result gets beyond the job's time limit, for
# the time the job waits in its queue, in ms.
_LISTEN_MARGIN_MS = 10_000

_INLINE_WORKFLOW = "INLINE_WORKFLOW"
_URL_PREFIXES = ("http://", "https://")


@app.command("validate")
def validate(
    file: Annotated[Path, typer.Argument(help="Workflow file, YAML or JSON.")],
    json_output: JsonOutput = False,
) -> None:
    """Check a workflow document without running it; list every problem with its JSON pointer.

    Exits with 2 when the document is invalid.
    """
    from .errors import InputError
    from .output import Output

    output = Output(json_mode=json_output)
    issues, workflow = _check_file(file)
    if issues:
        if output.json_mode:
            output.json({"valid": False, "issues": issues})
        else:
            for issue in issues:
                output.line(f"{issue['path'] or '/'}: {issue['message']}")
        raise InputError(f"workflow {file} is invalid: {_count(len(issues), 'problem')}")

    assert workflow is not None
    if output.json_mode:
        output.json({"valid": True, "name": workflow.name, "version": workflow.version})
    else:
        output.line(
            f"workflow {file} is valid: {workflow.name} {workflow.version}, "
            f"{_count(len(workflow.tasks), 'top-level task')}"
        )


def enqueue_workflow(
    ctx: typer.Context,
    workflow_input: Annotated[
        str,
        typer.Option(
            "--input",
            "-i",
            help="Workflow input as JSON; text that is not JSON is taken as a JSON string. "
            + FILE_VALUE_HELP,
        ),
    ],
    workflow_file: Annotated[
        str,
        typer.Option(
            "--workflow-file",
            "-w",
            help="Workflow file (YAML or JSON), read here and sent with the job; or an "
            "http(s) URL that the server fetches.",
        ),
    ],
    channel: Annotated[
        str | None,
        typer.Option("--channel", "-c", help="Channel the workflow job runs in."),
    ] = None,
    context: Annotated[
        str | None,
        typer.Option("--context", help="Initial context variables as a JSON object."),
    ] = None,
    timeout: Annotated[
        int,
        typer.Option(
            "--timeout",
            "-t",
            min=1,
            max=INT64_MAX,
            help="Time limit of the workflow run in milliseconds.",
        ),
    ] = DEFAULT_WORKFLOW_TIMEOUT_MS,
    json_output: JsonOutput = False,
) -> None:
    """Run a workflow once and print its result; no worker is left behind.

    A temporary INLINE_WORKFLOW worker runs the job and is deleted afterwards, also after
    an error or Ctrl+C, which cancels the job.
    """
    from jwp.proto.jobworkerp.runner.workflow_args_pb2 import InlineWorkflowArgs

    from .client import connect
    from .errors import ServerError
    from .output import Output

    args = InlineWorkflowArgs(input=read_text_option(workflow_input, "--input"))
    if workflow_file.startswith(_URL_PREFIXES):
        args.workflow_url = workflow_file
    else:
        args.workflow_data = _read_valid_document(workflow_file)
    if context is not None:
        args.workflow_context = _check_context(context)

    with connect(ctx) as api:
        runner = api.find_runner_by_name(_INLINE_WORKFLOW)
        if runner is None:
            raise ServerError(
                f"the server at {api.address} has no {_INLINE_WORKFLOW} runner; "
                "list its runners with `jwp runner list`"
            )
        if channel:
            _check_channel_served(api, channel)
        result = _run_with_temporary_worker(
            api, runner.id.value, args.SerializeToString(), channel, timeout
        )
    _print_result(Output(json_mode=json_output), result)


def _run_with_temporary_worker(
    api: Api, runner_id: int, args: bytes, channel: str | None, timeout_ms: int
) -> job_result_pb2.JobResult:
    """Create the worker, run the job, wait for the result; always delete the worker."""
    import secrets

    from jwp.proto.jobworkerp.data import common_pb2, job_pb2, runner_pb2, worker_pb2
    from jwp.proto.jobworkerp.service import job_pb2 as job_service_pb2
    from jwp.proto.jobworkerp.service import job_result_pb2 as result_service_pb2

    from .errors import StoppedWaitingError

    data = worker_pb2.WorkerData(
        name=f"jwp-workflow-{secrets.token_hex(6)}",
        description="temporary worker of `jwp job enqueue-workflow`",
        runner_id=runner_pb2.RunnerId(value=runner_id),
        queue_type=common_pb2.NORMAL,
        response_type=common_pb2.NO_RESULT,
        broadcast_results=True,
        channel=channel,
    )
    worker_id = api.create_worker(data)
    job_id: int | None = None
    try:
        response = api.enqueue(
            job_service_pb2.JobRequest(
                worker_id=worker_pb2.WorkerId(value=worker_id), args=args, timeout=timeout_ms
            )
        )
        job_id = response.id.value
        listen = result_service_pb2.ListenRequest(
            job_id=job_pb2.JobId(value=job_id),
            worker_id=worker_pb2.WorkerId(value=worker_id),
            timeout=timeout_ms + _LISTEN_MARGIN_MS,
        )
        result = api.listen(listen)
    except KeyboardInterrupt:
        # Without this, Typer ends a Ctrl+C with exit code 130 and no word
        # on whether the job and the temporary worker are gone.
        cleaned_up = _clean_up(api, worker_id, job_id)
        raise StoppedWaitingError(_stopped_message(job_id, cleaned_up)) from None
    except BaseException:
        _clean_up(api, worker_id, job_id)
        raise
    _clean_up(api, worker_id, None)
    return result


def _stopped_message(job_id: int | None, cleaned_up: bool) -> str:
    job = f"workflow job {job_id}" if job_id is not None else "the workflow job"
    if cleaned_up:
        return f"stopped waiting: {job} was cancelled and its temporary worker deleted"
    return f"stopped waiting for {job}; see the warnings above for what is left behind"


def _check_channel_served(api: Api, channel: str) -> None:
    """Raise ServerError when the server does not run `channel`: the job would never run."""
    from .errors import ServerError

    served = [name for name, _ in api.list_channels()]
    if channel not in served:
        raise ServerError(
            f"the server at {api.address} does not run channel {channel!r} (it runs: "
            f"{', '.join(served)}); leave out --channel or add the channel to its WORKER_CHANNELS"
        )


def _clean_up(api: Api, worker_id: int, unfinished_job_id: int | None) -> bool:
    """Cancel a job that did not finish, then delete the worker; warn instead of failing.

    Returns:
        Whether every step succeeded.
    """
    from .control_chars import escape_control_chars
    from .errors import CliError

    steps: list[tuple[str, Any]] = []
    if unfinished_job_id is not None:
        steps.append((f"cancel job {unfinished_job_id}", lambda: api.delete_job(unfinished_job_id)))
    steps.append((f"delete temporary worker {worker_id}", lambda: api.delete_worker(worker_id)))
    succeeded = True
    for description, step in steps:
        try:
            step()
        except CliError as error:
            succeeded = False
            message = escape_control_chars(error.message)
            typer.echo(f"warning: could not {description}: {message}", err=True)
    return succeeded


def _print_result(output: Output, result: job_result_pb2.JobResult) -> None:
    import json

    from jwp.proto.jobworkerp.data import common_pb2
    from jwp.proto.jobworkerp.runner.workflow_result_pb2 import WorkflowResult

    from .errors import ServerError

    data = result.data
    job_status = common_pb2.ResultStatus.Name(data.status)
    if data.status != common_pb2.SUCCESS:
        message = data.output.items.decode("utf-8", "replace")
        if output.json_mode:
            output.json(
                {"job_id": str(data.job_id.value), "job_status": job_status, "error": message}
            )
        raise ServerError(f"workflow job {data.job_id.value} failed with {job_status}: {message}")

    workflow_result = WorkflowResult()
    workflow_result.ParseFromString(data.output.items)
    status = WorkflowResult.WorkflowStatus.Name(workflow_result.status)
    try:
        workflow_output: Any = json.loads(workflow_result.output)
    except json.JSONDecodeError:
        workflow_output = workflow_result.output
    error_message = (
        workflow_result.error_message if workflow_result.HasField("error_message") else None
    )
    record = {
        "job_id": str(data.job_id.value),
        "job_status": job_status,
        "id": workflow_result.id,
        "status": status,
        "position": workflow_result.position,
        "output": workflow_output,
        "error_message": error_message,
    }
    if output.json_mode:
        output.json(record)
    else:
        output.show(_result_card(record))
    if workflow_result.status != WorkflowResult.Completed:
        raise ServerError(
            f"workflow {workflow_result.id} ended {status} at {workflow_result.position or '/'}: "
            f"{error_message or 'no error message'}"
        )


def _result_card(record: dict[str, Any]) -> Any:
    import json

    from .output import card, plain

    style = "bold green" if record["status"] == "Completed" else "bold red"
    rows = [
        ("status", plain(record["status"], style=style)),
        ("workflow id", plain(record["id"])),
        ("job id", plain(record["job_id"])),
        ("position", plain(record["position"] or "/")),
    ]
    if record["error_message"]:
        rows.append(("error", plain(record["error_message"])))
    rows.append(("output", plain(json.dumps(record["output"], ensure_ascii=False, indent=2))))
    return card("workflow result", rows)


def _read_valid_document(location: str) -> str:
    """Read a local workflow file and check it; raise InputError listing its problems."""
    from .errors import InputError

    path = Path(location.removeprefix("file://"))
    issues, _ = _check_file(path)
    if issues:
        listed = "; ".join(f"{issue['path'] or '/'}: {issue['message']}" for issue in issues)
        raise InputError(f"workflow {location} is invalid: {listed}")
    return path.read_text(encoding="utf-8")


def _check_file(path: Path) -> tuple[list[dict[str, str]], Any]:
    """Parse a workflow file; return its problems (path and message) and the workflow."""
    from jwp.server.workflow.errors import WorkflowDefinitionError
    from jwp.server.workflow.model import parse_workflow

    from .errors import InputError

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"workflow file {path} not found") from None
    except IsADirectoryError:
        raise InputError(f"workflow file {path} is a directory") from None
    except UnicodeDecodeError:
        raise InputError(f"workflow file {path} is not UTF-8 text") from None
    except OSError as error:
        raise InputError(f"workflow file {path} cannot be read: {error.strerror}") from None
    try:
        workflow = parse_workflow(text, source=f"workflow {path}")
    except WorkflowDefinitionError as error:
        issues = [{"path": issue.path, "message": issue.message} for issue in error.issues]
        return issues, None
    return [], workflow


def _check_context(text: str) -> str:
    import json

    from .errors import InputError

    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(
            f"--context is not valid JSON (line {error.lineno} column {error.colno}: "
            f"{error.msg}); give a JSON object"
        ) from None
    if not isinstance(value, dict):
        raise InputError('--context must be a JSON object of variables, e.g. \'{"name": "x"}\'')
    return text


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
