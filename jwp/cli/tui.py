"""`jwp tui`: the live operator dashboard."""

from __future__ import annotations

import os
from typing import Annotated

import typer


def tui(
    ctx: typer.Context,
    address: Annotated[
        str | None,
        typer.Option(
            "--address",
            "-a",
            help="Server address as host:port or http(s)://host:port; defaults to the global "
            "--address (JWP_ADDRESS, else localhost:9000).",
        ),
    ] = None,
    read_only: Annotated[
        bool,
        typer.Option(
            "--read-only",
            help="Hide every action that changes the server (enqueue, cancel, delete, edit).",
        ),
    ] = False,
    interval_ms: Annotated[
        int,
        typer.Option(
            "--interval",
            min=100,
            max=60_000,
            help="Time between two channel load snapshots, in milliseconds.",
        ),
    ] = 1000,
) -> None:
    """Open the live dashboard: channel load, runners, workers, jobs, results, live results."""
    from jwp.tui.app import DashboardApp

    from .client import parse_address
    from .credentials import AUTH_TOKEN_VARIABLE, channel_credentials

    options = ctx.obj or {}
    target = parse_address(address or options.get("address", ""))
    if target.tls:
        channel_credentials()  # an unreadable JWP_TLS_* file fails here, before the screen opens
    auth_token = os.environ.get(AUTH_TOKEN_VARIABLE) or None
    DashboardApp(
        target, read_only=read_only, load_interval_ms=interval_ms, auth_token=auth_token
    ).run()
