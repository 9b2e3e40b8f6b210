"""The BenchNoop plugin runner of the benchmarks, loaded by a real server."""

from __future__ import annotations

from pathlib import Path

from jwp.proto.jobworkerp.data import common_pb2
from jwp.proto.jobworkerp.service import runner_pb2 as runner_service_pb2
from tests.support.jobs import run_job, server_stubs

PLUGIN_DIR = Path(__file__).resolve().parents[2] / "bench" / "plugins"


async def test_bench_noop_returns_empty_result(tmp_path: Path) -> None:
    async with server_stubs(tmp_path, plugins_runner_dir=[PLUGIN_DIR]) as stubs:
        found = await stubs.runners.FindByName(
            runner_service_pb2.RunnerNameRequest(name="BenchNoop")
        )
        assert found.HasField("data")

        result = await run_job(stubs, found.data.id.value, b"", b"any bytes \x00\xff")

    assert result.status == common_pb2.SUCCESS
    assert result.output.items == b""
