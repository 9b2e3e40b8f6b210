"""`jwp runner`: the runners that the server can run, and their schemas."""

from __future__ import annotations

from typing import Annotated

import typer

from .options import JsonOutput, Limit, Offset

app = typer.Typer(
    name="runner",
    help="Look up runners: the kinds of work (COMMAND, HTTP_REQUEST, ...) that workers use.",
    no_args_is_help=True,
)

RunnerIdOption = Annotated[
    int, typer.Option("--id", "-i", help="Runner id (see `jwp runner list`).")
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


@app.command("find")
def find(ctx: typer.Context, runner_id: RunnerIdOption, json_output: JsonOutput = False) -> None:
    """Show one runner with the proto texts of its settings, args and result schemas."""
    from .client import connect
    from .errors import ServerError
    from .output import Output, runner_card
    from .records import runner_record

    with connect(ctx) as api:
        runner = api.find_runner(runner_id)
    if runner is None:
        raise ServerError(f"runner {runner_id} not found; list runners with `jwp runner list`")
    record = runner_record(runner)
    Output(json_mode=json_output).item(record, runner_card(record))


@app.command("find-by-name")
def find_by_name(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", "-n", help="Runner name, e.g. COMMAND.")],
    json_output: JsonOutput = False,
) -> None:
    """Show one runner, found by name, with the proto texts of its schemas."""
    from .client import connect
    from .errors import ServerError
    from .output import Output, runner_card
    from .records import runner_record

    with connect(ctx) as api:
        runner = api.find_runner_by_name(name)
    if runner is None:
        raise ServerError(f"runner {name!r} not found; list runners with `jwp runner list`")
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
