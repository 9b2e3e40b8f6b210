"""Warnings about channels that no dispatcher of the server runs."""

from __future__ import annotations

import typer


def warn_if_unserved(channel: str, served: dict[str, int], address: str, consequence: str) -> None:
    """Warn on stderr when no live process of the server runs this channel.

    `served` is what `Api.list_channels` returns and `consequence` is the
    clause that names what waits because of it.
    """
    if channel in served:
        return
    names = ", ".join(sorted(served)) or "none"
    typer.echo(
        f"warning: the server at {address} does not run channel {channel!r} (it runs: {names}); "
        f"{consequence}",
        err=True,
    )
