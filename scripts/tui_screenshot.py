"""Write docs/tui-overview.svg: the dashboard's overview of a server with some load.

Usage:
    python scripts/tui_screenshot.py [OUTPUT]

It starts `jwp serve` in a temporary folder, creates a few workers, runs
jobs that succeed and fail, keeps a slow channel busy, lets the dashboard
sample the load for a few seconds, and saves Textual's SVG screenshot.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

import grpc

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from jwp.cli.client import parse_address  # noqa: E402
from jwp.proto.jobworkerp.data import runner_pb2, worker_pb2  # noqa: E402
from jwp.proto.jobworkerp.runner import command_args_pb2  # noqa: E402
from jwp.proto.jobworkerp.service import job_pb2 as job_service_pb2  # noqa: E402
from jwp.proto.jobworkerp.service import job_pb2_grpc, worker_pb2_grpc  # noqa: E402
from jwp.tui.app import DashboardApp  # noqa: E402
from tests.support.servers import ServerProcess  # noqa: E402

SIZE = (120, 30)
SAMPLING_S = 8.0


def args(command: str, *values: str) -> bytes:
    return command_args_pb2.CommandArgs(command=command, args=list(values)).SerializeToString()


async def drive(address: str) -> str:
    """Run the dashboard against a server with load and return its SVG screenshot."""
    channel = grpc.aio.insecure_channel(address)
    workers = worker_pb2_grpc.WorkerServiceStub(channel)
    jobs = job_pb2_grpc.JobServiceStub(channel)
    command = runner_pb2.RunnerId(value=1)
    await workers.Create(
        worker_pb2.WorkerData(name="resize", runner_id=command, store_success=True)
    )
    await workers.Create(
        worker_pb2.WorkerData(name="report", runner_id=command, channel="slow", store_failure=True)
    )

    app = DashboardApp(parse_address(address), load_interval_ms=250, server_label="localhost:9000")
    async with app.run_test(size=SIZE) as pilot:
        started = time.monotonic()
        while time.monotonic() - started < SAMPLING_S:
            for _ in range(3):
                request = job_service_pb2.JobRequest(
                    worker_name="resize", args=args("sleep", "0.3")
                )
                await jobs.Enqueue(request)
            await jobs.Enqueue(
                job_service_pb2.JobRequest(worker_name="resize", args=args("/no/such"))
            )
            await jobs.Enqueue(
                job_service_pb2.JobRequest(worker_name="report", args=args("sleep", "2"))
            )
            await pilot.pause(0.5)
        svg = app.export_screenshot(title="jwp tui")
    await channel.close()
    return svg


def main() -> None:
    output = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO_ROOT / "docs" / "tui-overview.svg"
    with tempfile.TemporaryDirectory(prefix="jwp-screenshot-") as workdir:
        server = ServerProcess(
            Path(workdir),
            {
                "WORKER_CHANNELS": "slow",
                "WORKER_CHANNEL_CONCURRENCIES": "1",
                "JWP_SHUTDOWN_GRACE_MS": "0",
            },
        )
        server.start()
        try:
            svg = asyncio.run(drive(server.address))
        finally:
            server.stop()
    output.write_text(svg, encoding="utf-8")
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
