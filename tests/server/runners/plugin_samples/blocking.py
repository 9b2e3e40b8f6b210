"""BlockingPlugin: an async run that blocks its event loop with time.sleep.

The args are a folder path: the plugin writes `started` there, then blocks
in time.sleep until a file `release` appears in it, then returns b"released".
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

from jwp.server.runners.plugins import PluginDefinition


class Blocking:
    async def run(self, args: bytes, metadata: Mapping[str, str]) -> bytes:
        folder = Path(args.decode())
        (folder / "started").touch()
        while not (folder / "release").exists():
            time.sleep(0.01)  # noqa: ASYNC251 - blocks this plugin's loop on purpose
        return b"released"


jwp_runner = PluginDefinition(name="BlockingPlugin", description="blocks", runner_class=Blocking)
