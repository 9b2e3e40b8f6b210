"""HelloPlugin: a sample jwp plugin runner that greets.

`run` returns one HelloRunnerResult with the greeting; `run_stream` yields
one HelloRunnerResult per character of it. The worker settings
(HelloRunnerSettings) name who signs the greeting. See README.md beside
this file for how to load it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

from jwp import schema
from jwp.errors import RunnerArgumentError
from jwp.server.runners.plugins import PluginDefinition

_PROTOS = Path(__file__).resolve().parent / "protos"
SETTINGS_PROTO = (_PROTOS / "hello_runner_settings.proto").read_text(encoding="utf-8")
ARGS_PROTO = (_PROTOS / "hello_args.proto").read_text(encoding="utf-8")
RESULT_PROTO = (_PROTOS / "hello_result.proto").read_text(encoding="utf-8")

# Message classes compiled from the proto texts above, so the plugin needs
# no generated code.
HelloRunnerSettings = schema.compile_first_message(SETTINGS_PROTO)
HelloArgs = schema.compile_first_message(ARGS_PROTO)
HelloRunnerResult = schema.compile_first_message(RESULT_PROTO)
assert HelloRunnerSettings and HelloArgs and HelloRunnerResult


class HelloRunner:
    """Greets the job's `arg`, signed with the worker's `name`."""

    def __init__(self) -> None:
        self.signature = "jwp"

    async def load(self, settings: bytes) -> None:
        """Read the signature from HelloRunnerSettings (empty settings keep the default)."""
        parsed = HelloRunnerSettings.FromString(settings)
        if parsed.name:
            self.signature = parsed.name

    async def run(self, args: bytes, metadata: Mapping[str, str]) -> bytes:
        """Return an encoded HelloRunnerResult with the whole greeting."""
        return HelloRunnerResult(data=self.greeting(args)).SerializeToString()

    async def run_stream(self, args: bytes, metadata: Mapping[str, str]) -> AsyncIterator[bytes]:
        """Yield an encoded HelloRunnerResult for each character of the greeting."""
        for character in self.greeting(args):
            yield HelloRunnerResult(data=character).SerializeToString()
            await asyncio.sleep(0)

    async def close(self) -> None:
        """Nothing to release; shown because a real plugin closes its clients here."""

    def greeting(self, args: bytes) -> str:
        arg = HelloArgs.FromString(args).arg
        if not arg:
            raise RunnerArgumentError("HelloArgs.arg is empty; say whom to greet")
        return f"Hello, {arg}! ({self.signature})"


jwp_runner = PluginDefinition(
    name="HelloPlugin",
    description="Greets the job's arg; streams the greeting one character at a time",
    runner_class=HelloRunner,
    settings_proto=SETTINGS_PROTO,
    args_proto=ARGS_PROTO,
    result_proto=RESULT_PROTO,
    output_type="BOTH",
)
