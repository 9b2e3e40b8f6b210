"""The READMEs and docs: the Japanese README matches the English one, and every example parses.

Running each example against a server is left to people, because several
need the network, wait for minutes or run until Ctrl+C. This test catches
what goes stale most often: renamed commands and options, and values the
CLI no longer accepts.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command

from jwp.cli.main import app
from tests.support.servers import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
README_JA = ROOT / "README.ja.md"
DOCS = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "plugins" / "hello_runner" / "README.md"]

# Settings that the start-up line shows, at their defaults whatever the
# environment of the test run sets (an empty value counts as unset), except
# for the address.
_DEFAULT_SETTINGS = {
    "GRPC_ADDR": "127.0.0.1:0",
    "STORAGE_TYPE": "Standalone",
    "SQLITE_URL": "sqlite://jobworkerp.sqlite3",
    "MYSQL_URL": "",
    "MYSQL_HOST": "",
    "WORKER_DEFAULT_CONCURRENCY": "4",
    "WORKER_CHANNELS": "",
    "WORKER_CHANNEL_CONCURRENCIES": "",
    "MCP_CONFIG": "mcp-settings.toml",
    "PLUGINS_RUNNER_DIR": "",
}
_CODE_BLOCK = re.compile(r"^```([\w-]*)\n(.*?)^```", re.S | re.M)
_HEADING = re.compile(r"^(#+) ", re.M)
# Placeholders of the examples and a value the CLI accepts in their place.
_PLACEHOLDERS = {
    "<job id>": "7534717920243314688",
    "<broadcasting worker>": "SleepWorker",
    "<id from `jwp runner list`>": "7534765326482333696",
    "<id>": "7534765326482333696",
}


def code_blocks(path: Path) -> list[tuple[str, str]]:
    return [(match[1], match[2]) for match in _CODE_BLOCK.finditer(path.read_text())]


def heading_levels(path: Path) -> list[int]:
    prose = _CODE_BLOCK.sub("", path.read_text())
    return [len(match[1]) for match in _HEADING.finditer(prose)]


def commands_of(code: str) -> list[str]:
    """Return the lines of a shell block without prompts and comments, continuations joined."""
    joined = re.sub(r"\\\n\s*", " ", code)
    lines = []
    for line in joined.splitlines():
        line = re.sub(r"(^|\s+)#\s.*$", "", line.removeprefix("$ ")).rstrip()
        if line:
            lines.append(line)
    return lines


def jwp_examples() -> list[tuple[str, str]]:
    examples = []
    for path in [README, README_JA, *DOCS]:
        for language, code in code_blocks(path):
            if language not in ("shell", "sh"):
                continue
            for line in commands_of(code):
                words = line.split()
                while words and "=" in words[0]:
                    words.pop(0)  # VARIABLE=value before the command
                if words and words[0] == "jwp":
                    examples.append((path.name, line))
    return examples


def parse(args: list[str]) -> tuple[str, dict[str, Any]]:
    """Parse a command line as `jwp` does, without running the command."""
    command: Any = get_command(app)
    context = command.make_context("jwp", args)
    while hasattr(command, "resolve_command"):
        # Typer's copy of click keeps the subcommand's arguments in `_protected_args`.
        rest = [*context._protected_args, *context.args]
        name, command, rest = command.resolve_command(context, rest)
        context = command.make_context(name, rest, parent=context)
    return command.name, context.params


def test_readmes_have_same_headings() -> None:
    assert heading_levels(README_JA) == heading_levels(README)


def test_readmes_have_same_code_blocks() -> None:
    english = code_blocks(README)
    japanese = code_blocks(README_JA)

    assert [language for language, _ in japanese] == [language for language, _ in english]
    for (language, english_code), (_, japanese_code) in zip(english, japanese, strict=True):
        if language in ("shell", "sh"):
            assert commands_of(japanese_code) == commands_of(english_code)


def linked_files(path: Path) -> set[str]:
    """Return the files a Markdown document links to, leaving out anchors and the READMEs."""
    targets = re.findall(r"\]\(([^)#\s]+)[^)]*\)", path.read_text(encoding="utf-8"))
    return {target for target in targets if target not in ("README.md", "README.ja.md")}


def test_readmes_link_same_files() -> None:
    assert linked_files(README_JA) == linked_files(README)


def test_examples_found() -> None:
    names = {name for name, _ in jwp_examples()}

    assert {"README.md", "README.ja.md", "workflows.md", "tui.md", "runners.md"} <= names
    assert len([name for name, _ in jwp_examples() if name == "README.md"]) >= 20


@pytest.mark.parametrize(("document", "line"), jwp_examples())
def test_example_command_parses(document: str, line: str) -> None:
    if "$(" in line or " [" in line:
        pytest.skip("a command substitution or usage syntax, not a literal command line")
    for placeholder, value in _PLACEHOLDERS.items():
        line = line.replace(placeholder, value)
    words = shlex.split(line)
    while "=" in words[0]:
        words.pop(0)

    parse(words[1:])


def test_readmes_quote_startup_line(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, _DEFAULT_SETTINGS)
    server.start()
    try:
        printed = next(line for line in server.output if "jwp serving on" in line)
    finally:
        server.stop()
    # The README shows the default address, where the test listens on a free port.
    expected = printed.replace(f"127.0.0.1:0 (port {server.port})", "[::1]:9000 (port 9000)")
    expected = expected[expected.index("INFO") :].strip()

    for readme in (README, README_JA):
        quoted = [code.strip() for language, code in code_blocks(readme) if language == "text"]
        assert expected in quoted, f"{readme.name} quotes {quoted}, jwp serve printed {expected!r}"
