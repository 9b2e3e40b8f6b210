"""The `jwp` command: `serve` runs the server, the other sub-commands are its client."""

from __future__ import annotations

from typing import Annotated

import typer

from . import serve

DEFAULT_ADDRESS = "localhost:9000"
"""Reaches a `jwp serve` with the default GRPC_ADDR ([::1]:9000) on this machine."""

app = typer.Typer(
    name="jwp",
    help="jwp: a job worker system that speaks the jobworkerp gRPC API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command(name="serve")(serve.serve)


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
) -> None:
    """Options shared by every client command."""
    ctx.obj = {"address": address}


def main() -> None:
    app()
