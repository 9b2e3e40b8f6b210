"""RaisingPlugin: every run raises ValueError."""

from __future__ import annotations

from collections.abc import Mapping

from jwp.server.runners.plugins import PluginDefinition


class Raising:
    async def run(self, args: bytes, metadata: Mapping[str, str]) -> bytes:
        raise ValueError(f"the plugin broke on purpose with {args.decode()!r}")


jwp_runner = PluginDefinition(name="RaisingPlugin", description="raises", runner_class=Raising)
