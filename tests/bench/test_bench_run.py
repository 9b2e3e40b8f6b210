"""`python -m bench run` end to end on a tiny Standalone workload, without peers."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


async def test_bench_run_writes_table(tmp_path: Path) -> None:
    output = tmp_path / "results.md"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench", "run",
        "--jobs", "40", "--direct-jobs", "20", "--only", "noop,direct",
        "--modes", "standalone", "--peers", "", "--output", str(output),
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    log, _ = await asyncio.wait_for(process.communicate(), 90)

    assert process.returncode == 0, log.decode()
    table = output.read_text(encoding="utf-8")
    noop_row = re.search(r"^\| jwp standalone \| [^|]+ \| 40 \| [\d.]+ \| [\d,]+ \|", table, re.M)
    assert noop_row, table
    assert re.search(r"^\| jwp standalone DIRECT no-op[^|]* \| 20 \| [\d.]+ \|", table, re.M), table
    assert "failed" not in table
