"""PlainPlugin: the synchronous variant, with plain methods and a generator.

`run` returns the args in upper case, or, for args `wait:<folder>`, writes
`started` in the folder and waits (time.sleep) until `release` appears
there. `run_stream` yields each byte of the args in upper case.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from jwp.server.runners.plugins import PluginDefinition


class Plain:
    def __init__(self) -> None:
        self.loaded = b""

    def load(self, settings: bytes) -> None:
        self.loaded = settings

    def run(self, args: bytes, metadata: Mapping[str, str]) -> bytes:
        if args.startswith(b"wait:"):
            folder = Path(args[len(b"wait:") :].decode())
            (folder / "started").touch()
            while not (folder / "release").exists():
                time.sleep(0.01)
            (folder / "finished").touch()
            return b"released"
        return self.loaded + args.upper()

    def run_stream(self, args: bytes, metadata: Mapping[str, str]) -> Iterator[bytes]:
        for value in args.upper():
            yield bytes([value])

    def close(self) -> None:
        pass


def jwp_runner() -> PluginDefinition:
    """A factory instead of an object, which the contract also allows."""
    return PluginDefinition(
        name="PlainPlugin",
        description="synchronous methods",
        runner_class=Plain,
        output_type="BOTH",
    )
