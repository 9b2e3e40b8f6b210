"""The `jwp` command: `serve` runs the server, the other sub-commands are its client."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from . import job, job_result, runner, serve, tui, worker, workflow
from .errors import JwpGroup

DEFAULT_ADDRESS = "localhost:9000"
"""Reaches a `jwp serve` with the default GRPC_ADDR ([::1]:9000) on this machine."""

MAX_REQUEST_TIMEOUT_MS = 100 * 365 * 86_400_000
"""100 years. grpcio turns a deadline into int64 nanoseconds since 1970, which
overflow after the year 2262, and then fails the call at once as timed out."""

app = typer.Typer(
    name="jwp",
    cls=JwpGroup,
    help="jwp: a job worker system that speaks the jobworkerp gRPC API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command(name="serve")(serve.serve)
app.add_typer(runner.app, name="runner")
app.add_typer(worker.app, name="worker")
app.add_typer(job.app, name="job")
app.add_typer(job_result.app, name="job-result")
app.add_typer(workflow.app, name="workflow")
# `jwp job enqueue-workflow` lives with `jwp workflow`, which shares its document checks.
job.app.command("enqueue-workflow")(workflow.enqueue_workflow)
app.command(name="tui")(tui.tui)


@app.callback()
def _global_options(
    ctx: typer.Context,
    address: Annotated[
        str,
        typer.Option(
            "--address",
            "-a",
            envvar="JWP_ADDRESS",
            help="Server address as host:port or http(s)://host:port.",
        ),
    ] = DEFAULT_ADDRESS,
    timeout_ms: Annotated[
        int | None,
        typer.Option(
            "--timeout",
            "-t",
            min=1,
            max=MAX_REQUEST_TIMEOUT_MS,
            help="Time limit of each request to the server in milliseconds; unset waits as "
            "long as the server does. It also bounds waits for DIRECT results and `job-result "
            "listen`, but not `job-result listen-by-worker`.",
        ),
    ] = None,
) -> None:
    """Options shared by every client command."""
    if ctx.invoked_subcommand != "serve":
        # grpc-core logs each failed TLS handshake on stderr; the client
        # reports such failures itself, in one line.
        os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    ctx.obj = {"address": address, "timeout_ms": timeout_ms}


def main() -> None:
    app()
