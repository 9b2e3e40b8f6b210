"""Helpers of the dashboard tests: apps on a real server, worker and job set-up, cell text."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from jwp.cli.client import parse_address
from jwp.proto.jobworkerp.data import runner_pb2, worker_pb2
from jwp.proto.jobworkerp.runner import command_args_pb2
from jwp.proto.jobworkerp.service import job_pb2 as job_service_pb2
from jwp.tui.app import DashboardApp
from jwp.tui.widgets.resource_table import ResourceTable
from tests.conftest import Stubs

COMMAND = runner_pb2.RunnerId(value=1)


def make_app(address: str, **options: Any) -> DashboardApp:
    """A dashboard that samples fast, so tests see changes quickly."""
    values: dict[str, Any] = {"load_interval_ms": 100, "table_refresh_s": 0.5}
    values.update(options)
    return DashboardApp(parse_address(address), **values)


async def create_worker(stubs: Stubs, name: str, **fields: Any) -> int:
    values: dict[str, Any] = {"name": name, "runner_id": COMMAND}
    values.update(fields)
    response = await stubs.workers.Create(worker_pb2.WorkerData(**values))
    return int(response.id.value)


async def enqueue(stubs: Stubs, worker: str, command: str, *args: str, **fields: Any) -> int:
    request = job_service_pb2.JobRequest(
        worker_name=worker,
        args=command_args_pb2.CommandArgs(command=command, args=list(args)).SerializeToString(),
        **fields,
    )
    return int((await stubs.jobs.Enqueue(request)).id.value)


def plain(cell: object) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def row_text(table: DataTable[Any], key: str) -> list[str]:
    """The plain text of a row's cells, or [] when the row is absent."""
    if key not in table.rows:
        return []
    return [plain(cell) for cell in table.get_row(key)]


def table_rows(table: ResourceTable) -> dict[str, list[str]]:
    """Shown rows by key, each as the plain text of its cells."""
    return {key: row_text(table.data_table, key) for key in table.shown_keys}
