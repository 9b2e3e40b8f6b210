"""Control characters from jobs reach the terminal escaped, and JSON unchanged."""

from __future__ import annotations

import json

import pytest

from jwp.cli.control_chars import escape_control_chars
from jwp.cli.errors import ExitCode, _report
from tests.cli.conftest import Cli

# printf turns these escapes into ESC, BEL and CR bytes in the job's stdout:
# an OSC that sets the terminal title and an SGR that turns the text red.
HOSTILE_ARGS = json.dumps(
    {"command": "printf", "args": ["\\033]0;pwned\\007\\033[31mred\\033[0m\\rover"]}
)


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("plain text", "plain text"),
        ("tab\tand\nnewline", "tab\tand\nnewline"),
        ("\x1b[31mred", "\\x1b[31mred"),
        ("bell\x07", "bell\\x07"),
        ("crlf\r\nline", "crlf\nline"),
        ("cr\rover", "cr\\x0dover"),
        ("del\x7f", "del\\x7f"),
        ("c1\x9bcsi", "c1\\x9bcsi"),
        ("日本語 ü", "日本語 ü"),
    ],
)
def test_escape_control_chars(text: str, escaped: str) -> None:
    assert escape_control_chars(text) == escaped


def test_enqueue_output_escaped(cli: Cli) -> None:
    cli.create_worker("Echo")

    result = cli("job", "enqueue", "-w", "Echo", "-a", HOSTILE_ARGS)

    assert "\x1b" not in result.stdout
    assert "\x07" not in result.stdout
    assert "\r" not in result.stdout
    assert "\\x1b]0;pwned\\x07\\x1b[31mred\\x1b[0m\\x0dover" in result.stdout


def test_enqueue_output_json_unchanged(cli: Cli) -> None:
    cli.create_worker("Echo")

    result = cli.json("job", "enqueue", "-w", "Echo", "-a", HOSTILE_ARGS)

    assert result["output"]["stdout"] == "\x1b]0;pwned\x07\x1b[31mred\x1b[0m\rover"


def test_result_find_escaped(cli: Cli) -> None:
    cli.create_worker("Echo", "--store-success")
    result_id = cli.json("job", "enqueue", "-w", "Echo", "-a", HOSTILE_ARGS)["id"]

    result = cli("job-result", "find", "--id", result_id)

    assert "\x1b" not in result.stdout
    assert "\\x1b[31mred" in result.stdout


def test_error_line_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    code = _report("job failed: \x1b[2Jscreen cleared\x1b]52;c;Y2xpcA==\x07", ExitCode.USAGE)

    stderr = capsys.readouterr().err
    assert code == ExitCode.USAGE
    assert "\x1b" not in stderr
    assert stderr == "error: job failed: \\x1b[2Jscreen cleared\\x1b]52;c;Y2xpcA==\\x07\n"
