"""ForeverPlugin: sleeps (asynchronously) until cancelled, and records the cancellation.

The args are a folder path: the plugin writes `started` there when it
starts and `cancelled` when it is cancelled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

from jwp.server.runners.plugins import PluginDefinition


class Forever:
    async def run(self, args: bytes, metadata: Mapping[str, str]) -> bytes:
        folder = Path(args.decode())
        (folder / "started").touch()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            (folder / "cancelled").touch()
            raise
        return b"woke up"


jwp_runner = PluginDefinition(name="ForeverPlugin", description="never ends", runner_class=Forever)
