"""Options that several client commands share.

This module imports only Typer, so that `jwp --help` stays fast; the gRPC
and Rich parts are imported inside the commands.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

# Bounds of the protobuf integer types that options are sent in. An option
# declares them with `min=` and `max=`, so a number outside them is a usage
# error (exit 2) that names the option, not a failure to encode the request.
INT32_MAX = 2**31 - 1
UINT32_MAX = 2**32 - 1
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)

JSON_HELP = (
    "Print JSON on stdout instead of tables: one document (a list for list commands, one "
    "object per line for listen-by-worker). "
    "Ids are strings, times are epoch milliseconds, enums are names, and args, settings "
    "and outputs are decoded with the runner's schemas (proto field names). Outputs keep "
    "fields that hold their default value, such as a workflow status of Completed."
)

JsonOutput = Annotated[bool, typer.Option("--json", help=JSON_HELP)]

Offset = Annotated[
    int | None,
    typer.Option(
        "--offset", "-o", min=0, max=INT64_MAX, help="Number of items to skip (used with --limit)."
    ),
]

Limit = Annotated[
    int | None,
    typer.Option("--limit", "-l", min=0, max=INT32_MAX, help="Maximum number of items to list."),
]


def is_ascii_digits(text: str) -> bool:
    """Tell whether text is one or more of the ASCII digits 0-9.

    `str.isdigit` alone also accepts other Unicode digits, such as `²`, which
    `int` rejects, and `１`, which `int` reads as 1.
    """
    return text.isascii() and text.isdigit()


FILE_VALUE_HELP = (
    "@FILE reads the value from FILE and @- from stdin, for values longer than a command "
    "line may be; @@ at the start stands for a literal @."
)


def read_text_option(value: str, option: str) -> str:
    """Return the text of `option`: `value` itself, or what `@FILE` or `@-` (stdin) contains.

    The file's text is used as is, trailing newline included. `@@text`
    gives the literal `@text`.

    Raises:
        InputError: The file or stdin cannot be read or is not UTF-8 text.
    """
    from .errors import InputError

    if not value.startswith("@"):
        return value
    if value.startswith("@@"):
        return value[1:]
    source = value[1:]
    if not source:
        raise InputError(f"{option} @ names no file; give @FILE, or @- to read stdin")
    if source == "-":
        name = "stdin"
        try:
            data = sys.stdin.buffer.read()
        except OSError as error:
            raise InputError(f"cannot read {option} from stdin: {error}") from None
    else:
        path = Path(source).expanduser()
        name = f"file {str(path)!r}"
        try:
            data = path.read_bytes()
        except OSError as error:
            raise InputError(f"cannot read {option} {name}: {error.strerror or error}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            f"{option} {name} is not UTF-8 text: invalid byte at offset {error.start}"
        ) from None


WORKER_REF_HELP = (
    "Worker id, or worker name. Digits are always read as an id, so a worker whose name is "
    "all digits can only be given by its id."
)


def check_name(name: str, kind: str) -> None:
    """Reject a `--name` for a `kind` ("worker" or "runner") that the server would reject.

    Raises:
        InputError: The name breaks the rule of `jwp.names`, which the server applies too.
    """
    from jwp.names import name_problem

    from .errors import InputError

    problem = name_problem(name, kind)
    if problem is not None:
        raise InputError(f"invalid --name: {problem}")
