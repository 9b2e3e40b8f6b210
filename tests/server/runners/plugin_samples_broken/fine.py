"""FinePlugin: echoes its args; it sits beside a plugin that fails to import."""

from __future__ import annotations

from collections.abc import Mapping

from jwp.server.runners.plugins import PluginDefinition


class Fine:
    async def run(self, args: bytes, metadata: Mapping[str, str]) -> bytes:
        return args


jwp_runner = PluginDefinition(name="FinePlugin", description="echoes", runner_class=Fine)
