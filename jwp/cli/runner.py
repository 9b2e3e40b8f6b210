"""`jwp runner`: the runners that the server can run, and their schemas."""

from __future__ import annotations

import enum
from typing import Annotated

import typer

from .options import (
    FILE_VALUE_HELP,
    INT64_MAX,
    INT64_MIN,
    JsonOutput,
    Limit,
    Offset,
    check_name,
    read_text_option,
)

app = typer.Typer(
    name="runner",
    help="Look up runners, the kinds of work (COMMAND, HTTP_REQUEST, ...) that workers use, "
    "and add or delete MCP server and plugin runners.",
    no_args_is_help=True,
)


class CreatableType(enum.StrEnum):
    """Runner types that can be added while the server runs."""

    MCP_SERVER = "MCP_SERVER"
    PLUGIN = "PLUGIN"


RunnerIdOption = Annotated[
    int,
    typer.Option(
        "--id", "-i", min=INT64_MIN, max=INT64_MAX, help="Runner id (see `jwp runner list`)."
    ),
]


@app.command("list")
def list_runners(
    ctx: typer.Context,
    offset: Offset = None,
    limit: Limit = None,
    json_output: JsonOutput = False,
) -> None:
    """List runners: id, name, type, output type and description."""
    from .client import connect
    from .output import Output, runner_table
    from .records import runner_record

    with connect(ctx) as api:
        records = [runner_record(runner) for runner in api.list_runners(limit=limit, offset=offset)]
    Output(json_mode=json_output).items(records, runner_table(records), "runners")


RunnerNameOption = Annotated[
    str | None, typer.Option("--name", "-n", help="Runner name, e.g. COMMAND.")
]


@app.command("find")
def find(
    ctx: typer.Context,
    runner_id: Annotated[
        int | None,
        typer.Option(
            "--id",
            "-i",
            min=INT64_MIN,
            max=INT64_MAX,
            help="Runner id (see `jwp runner list`); give either --id or --name.",
        ),
    ] = None,
    name: RunnerNameOption = None,
    json_output: JsonOutput = False,
) -> None:
    """Show one runner, found by --id or --name, with the proto texts of its schemas."""
    from .errors import InputError

    if runner_id is not None and name is not None:
        raise InputError("give either --id or --name, not both")
    if name is not None:
        _show_runner(ctx, name, json_output)
        return
    if runner_id is None:
        raise InputError("give the runner's --id or --name; list runners with `jwp runner list`")
    _show_runner(ctx, runner_id, json_output)


@app.command("find-by-name")
def find_by_name(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", "-n", help="Runner name, e.g. COMMAND.")],
    json_output: JsonOutput = False,
) -> None:
    """Show one runner, found by name, with the proto texts of its schemas."""
    _show_runner(ctx, name, json_output)


def _show_runner(ctx: typer.Context, reference: int | str, json_output: bool) -> None:
    """Print the runner with the id (an int) or the name (a str) `reference`."""
    from .client import connect
    from .errors import ServerError
    from .output import Output, runner_card
    from .records import runner_record

    with connect(ctx) as api:
        if isinstance(reference, str):
            runner = api.find_runner_by_name(reference)
        else:
            runner = api.find_runner(reference)
    if runner is None:
        shown = repr(reference) if isinstance(reference, str) else str(reference)
        raise ServerError(f"runner {shown} not found; list runners with `jwp runner list`")
    record = runner_record(runner)
    Output(json_mode=json_output).item(record, runner_card(record))


@app.command("count")
def count(ctx: typer.Context, json_output: JsonOutput = False) -> None:
    """Print the number of runners."""
    from .client import connect
    from .output import Output

    with connect(ctx) as api:
        total = api.count_runners()
    Output(json_mode=json_output).count(total)


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", "-n", help="Unique runner name.")],
    runner_type: Annotated[
        CreatableType,
        typer.Option("--runner-type", "-r", case_sensitive=False, help="Kind of runner to add."),
    ],
    definition: Annotated[
        str,
        typer.Option(
            "--definition",
            help="MCP_SERVER: the server's transport in TOML, JSON or YAML, e.g. "
            "'protocol = \"stdio\"' plus command and args, or protocol sse / streamable-http "
            "plus url. PLUGIN: the path of the plugin's .py file or package folder, as the "
            "server sees it. " + FILE_VALUE_HELP,
        ),
    ],
    description: Annotated[
        str, typer.Option("--description", "-d", help="What the runner does.")
    ] = "",
    json_output: JsonOutput = False,
) -> None:
    """Add an MCP server or a plugin as a runner and print its id.

    The server connects to an MCP server first, and loads a plugin first, so a
    definition that does not work is rejected.
    """
    from jwp.proto.jobworkerp.service import runner_pb2 as runner_service_pb2

    from .client import connect
    from .output import Output

    check_name(name, "runner")
    request = runner_service_pb2.CreateRunnerRequest(
        name=name,
        description=description,
        runner_type=runner_type.value,
        definition=_read_definition(definition),
    )
    with connect(ctx) as api:
        runner_id = api.create_runner(request)
    output = Output(json_mode=json_output)
    if output.json_mode:
        output.json({"runner_id": str(runner_id)})
    else:
        output.line(f"runner id: {runner_id}")


def _read_definition(value: str) -> str:
    """Return `--definition`, or the text of the file that `@FILE` names."""
    from .errors import InputError

    definition = read_text_option(value, "--definition")
    if not definition.strip():
        raise InputError("--definition is empty; give the definition, or @FILE to read it")
    return definition


@app.command("delete")
def delete(ctx: typer.Context, runner_id: RunnerIdOption, json_output: JsonOutput = False) -> None:
    """Delete an MCP server or plugin runner; built-in runners cannot be deleted.

    Workers of the runner stay, but their jobs fail until they use another runner.
    """
    from .client import connect
    from .errors import ServerError
    from .output import Output

    with connect(ctx) as api:
        deleted = api.delete_runner(runner_id)
    if not deleted:
        raise ServerError(f"runner {runner_id} not found; list runners with `jwp runner list`")
    output = Output(json_mode=json_output)
    if output.json_mode:
        output.json({"runner_id": str(runner_id), "deleted": True})
    else:
        output.line(f"runner {runner_id} deleted")
