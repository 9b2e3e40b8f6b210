"""BenchNoop: a plugin runner for benchmarks that returns at once.

A job's args are any bytes and its result is empty, so a benchmark of it
measures only what jwp does around a job: admission, queueing, dispatch
and result handling. `python -m bench run` loads it with
PLUGINS_RUNNER_DIR pointing at this folder.
"""

from __future__ import annotations

from collections.abc import Mapping

from jwp.server.runners.plugins import PluginDefinition


class BenchNoopRunner:
    """Returns an empty result without doing anything."""

    async def run(self, args: bytes, metadata: Mapping[str, str]) -> bytes:
        return b""


jwp_runner = PluginDefinition(
    name="BenchNoop",
    description="Benchmark runner: returns an empty result at once, whatever the args",
    runner_class=BenchNoopRunner,
    settings_proto="",
    args_proto="",
    result_proto=None,
    output_type="NON_STREAMING",
)
