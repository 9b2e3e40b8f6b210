"""Exit codes of the `jwp` client commands and the errors that lead to them.

    CliError                  one line on stderr, then exit with `exit_code`
    ├── InputError            2: the command line is wrong (bad JSON, unknown field)
    ├── ServerError           1: the server rejected the request, lacks the item, or
    │                            the job ended with a status other than SUCCESS
    ├── UnreachableError      3: no server responds at the address, or it is unavailable
    └── StoppedWaitingError 130: Ctrl+C while waiting for a job, which may still run

Commands raise these; `JwpGroup.main` is the one place that prints them as
`error: ...` and turns them into exit codes, together with the usage errors
of the command-line parser, so no failure ends in a traceback.
"""

from __future__ import annotations

import enum
import os
import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperGroup

from .control_chars import escape_control_chars

TRACEBACK_VARIABLE = "JWP_TRACEBACK"
"""Environment variable that, when set, lets an unexpected error end with its traceback."""


class ExitCode(enum.IntEnum):
    """Exit status of a `jwp` client command."""

    OK = 0
    SERVER_ERROR = 1
    """The server rejected the request, an item it names does not exist, or a job failed."""
    USAGE = 2
    """Invalid options or input (bad JSON, a field not in the schema); nothing was sent."""
    UNREACHABLE = 3
    """No server responds at the address, or it reported itself unavailable; retry later."""
    INTERRUPTED = 130
    """Stopped with Ctrl+C (128 + SIGINT), except listen-by-worker, which exits 0."""


class CliError(Exception):
    """A failure reported as one `error: ...` line on stderr."""

    exit_code = ExitCode.SERVER_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputError(CliError):
    """Options or input that the CLI rejects before sending anything."""

    exit_code = ExitCode.USAGE


class ServerError(CliError):
    """A request the server rejected, or an item that the server does not have."""

    exit_code = ExitCode.SERVER_ERROR


class UnreachableError(CliError):
    """The server could not be reached, or it reported itself unavailable."""

    exit_code = ExitCode.UNREACHABLE


class StoppedWaitingError(CliError):
    """Ctrl+C ended a wait for a job that the server may still run."""

    exit_code = ExitCode.INTERRUPTED


class JwpGroup(TyperGroup):
    """The root command group: prints every failure as one `error: ...` line."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            # In non-standalone mode Typer returns the code of a typer.Exit
            # instead of calling sys.exit, and raises parser errors, so both
            # reach the handlers below.
            result = super().main(
                args=args,
                prog_name=prog_name,
                complete_var=complete_var,
                standalone_mode=False,
                windows_expand_args=windows_expand_args,
                **extra,
            )
        except CliError as error:
            code = _report(error.message, error.exit_code)
        except typer.TyperException as error:
            code = _report_usage_error(error)
        except typer.Abort:
            code = _report("aborted", ExitCode.INTERRUPTED)
        except Exception as error:
            if os.environ.get(TRACEBACK_VARIABLE):
                raise
            code = _report(
                f"unexpected {type(error).__name__}: {error}. This is a bug in jwp; run the "
                f"command again with {TRACEBACK_VARIABLE}=1 to see the traceback, and report it",
                ExitCode.SERVER_ERROR,
            )
        else:
            code = result if isinstance(result, int) else ExitCode.OK
        if not standalone_mode:
            return code
        sys.exit(code)


def _report(message: str, code: int) -> int:
    lines = escape_control_chars(message).splitlines()
    one_line = " ".join(line.strip() for line in lines if line.strip())
    typer.echo(f"error: {one_line}", err=True)
    return code


def _report_usage_error(error: typer.TyperException) -> int:
    # Typer prints the help itself before raising this error for a group
    # called without a command, so only the exit code is left to set.
    if type(error).__name__ == "NoArgsIsHelpError":
        return ExitCode.USAGE
    message = error.format_message().strip().rstrip(".")
    context = getattr(error, "ctx", None)
    if context is not None:
        message = f"{message}; see '{context.command_path} --help'"
    code = error.exit_code if error.exit_code != ExitCode.OK else ExitCode.USAGE
    return _report(message, code)
