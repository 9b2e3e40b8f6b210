"""`jwp serve`: run the server until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from jwp.config import Role

if TYPE_CHECKING:
    from jwp.config import Settings

logger = logging.getLogger(__name__)


def serve(
    role: Annotated[
        Role,
        typer.Option(
            help="What this process runs: all (gRPC API and job dispatch), front (API only) "
            "or worker (dispatch only). front and worker need STORAGE_TYPE=Scalable.",
            case_sensitive=False,
        ),
    ] = Role.ALL,
    grpc_addr: Annotated[
        str | None,
        typer.Option(
            "--grpc-addr",
            help="Address to listen on, e.g. [::1]:9000 (overrides GRPC_ADDR).",
        ),
    ] = None,
) -> None:
    """Run the jwp server (settings come from the environment and .env; see dot.env)."""
    from pydantic import ValidationError

    from jwp.config import Settings
    from jwp.errors import JwpError
    from jwp.logs import configure_logging
    from jwp.redact import install_log_redaction, secret_values, settings_summary

    try:
        settings = Settings() if grpc_addr is None else Settings(grpc_addr=grpc_addr)
    except ValidationError as error:
        typer.echo(f"error: invalid settings: {_first_error(error)}", err=True)
        raise typer.Exit(2) from None
    configure_logging(
        settings.log_level,
        use_json=settings.log_use_json,
        use_stdout=settings.log_use_stdout,
        file_dir=settings.log_file_dir,
        app_name=settings.log_app_name,
    )
    install_log_redaction(secret_values(settings))
    logger.debug("settings: %s", settings_summary(settings))
    ignored = settings.ignored_settings()
    if ignored is not None:
        logger.warning("settings ignored in this configuration: %s", ignored)
    from jwp.config import StorageType

    if role is not Role.ALL and settings.storage_type is not StorageType.SCALABLE:
        typer.echo(
            f"error: --role {role.value} needs STORAGE_TYPE=Scalable (Redis and a shared "
            "database); set it, or use --role all for a single Standalone process",
            err=True,
        )
        raise typer.Exit(2)
    try:
        with asyncio.Runner(loop_factory=_loop_factory(settings)) as runner:
            runner.run(_run(settings, role))
    except JwpError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    except OSError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


async def _run(settings: object, role: Role) -> None:
    from jwp.config import Settings
    from jwp.server.app import JwpServer

    assert isinstance(settings, Settings)
    server = JwpServer(settings, role)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop.set)
    try:
        await server.start()
    except RuntimeError as error:
        # grpc.aio raises RuntimeError when the address cannot be bound.
        raise OSError(f"cannot listen on {settings.grpc_addr}: {error}") from error
    await server.mark_serving()
    await stop.wait()
    logger.info("received a stop signal")
    await server.stop()


def _first_error(error: object) -> str:
    from pydantic import ValidationError

    assert isinstance(error, ValidationError)
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"]).upper() or "settings"
    return f"{location}: {first['msg']}"


def _loop_factory(settings: Settings) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """Return uvloop's loop factory when JWP_UVLOOP is set, else None (asyncio's default)."""
    if not settings.jwp_uvloop:
        return None
    from jwp.errors import JwpError

    try:
        import uvloop
    except ImportError as error:
        raise JwpError(
            "JWP_UVLOOP=true needs the uvloop package; install it with "
            "pip install 'jwp[uvloop]', or unset JWP_UVLOOP"
        ) from error
    logger.info("event loop: uvloop (JWP_UVLOOP)")
    return uvloop.new_event_loop
