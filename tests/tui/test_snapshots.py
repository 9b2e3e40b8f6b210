"""SVG snapshots that pin the layout of each dashboard screen.

The data are fixed (the same workers and jobs every run), and whatever a
run cannot fix, such as ids, times, durations, the server's port and its
uptime, is masked in the view before the screenshot. Update the files
under __snapshots__ with `pytest tests/tui/test_snapshots.py --snapshot-update`
after a deliberate change, and look at the report it writes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import grpc
import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from jwp.proto.jobworkerp.data import common_pb2, runner_pb2, worker_pb2
from jwp.proto.jobworkerp.runner import command_args_pb2
from jwp.proto.jobworkerp.service import common_pb2 as service_common_pb2
from jwp.proto.jobworkerp.service import job_pb2 as job_service_pb2
from jwp.proto.jobworkerp.service import job_pb2_grpc, job_result_pb2_grpc, worker_pb2_grpc
from jwp.tui.app import DashboardApp
from jwp.tui.connection import ConnectionState, ConnectionStatus
from jwp.tui.details import Details
from jwp.tui.screens.details import DetailsScreen
from jwp.tui.screens.enqueue import EnqueueScreen
from jwp.tui.screens.live_results import LiveResultsScreen
from jwp.tui.screens.worker_form import WorkerFormScreen
from jwp.tui.widgets.resource_table import ResourceTable, Row
from jwp.tui.widgets.stats_panel import StatsPanel
from tests.support.servers import ServerProcess
from tests.tui.conftest import SERVER_ENV
from tests.tui.support import make_app

SIZE = (120, 34)
MASK = "‹masked›"
ScreenT = TypeVar("ScreenT")

Compare = Callable[..., bool]


def command_args(command: str, *args: str) -> bytes:
    return command_args_pb2.CommandArgs(command=command, args=list(args)).SerializeToString()


def wait_for(check: Callable[[], Any], message: str, timeout_s: float = 15) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} not met within {timeout_s} s")
        time.sleep(0.02)


def set_up_data(address: str) -> None:
    """Workers, two successes and a failure, a running and two queued jobs, a scheduled job."""
    channel = grpc.insecure_channel(address)
    workers = worker_pb2_grpc.WorkerServiceStub(channel)
    jobs = job_pb2_grpc.JobServiceStub(channel)
    statuses = job_pb2_grpc.JobStatusServiceStub(channel)
    results = job_result_pb2_grpc.JobResultServiceStub(channel)
    command = runner_pb2.RunnerId(value=1)
    policy = common_pb2.RetryPolicy(type=common_pb2.CONSTANT, interval=1000, max_retry=2, basis=2)
    for data in (
        worker_pb2.WorkerData(
            name="echo",
            description="prints its args",
            runner_id=command,
            store_success=True,
            store_failure=True,
            broadcast_results=True,
        ),
        worker_pb2.WorkerData(
            name="sleeper",
            runner_id=command,
            channel="slow",
            store_failure=True,
            retry_policy=policy,
        ),
        worker_pb2.WorkerData(name="later", runner_id=command, queue_type=common_pb2.FORCED_RDB),
    ):
        workers.Create(data)

    for args in (command_args("echo", "one"), command_args("echo", "two")):
        jobs.Enqueue(job_service_pb2.JobRequest(worker_name="echo", args=args))
        wait_for(
            lambda: len(list(results.FindList(service_common_pb2.FindListRequest()))) >= 1,
            "a result",
        )
    jobs.Enqueue(
        job_service_pb2.JobRequest(worker_name="echo", args=command_args("/nonexistent/x"))
    )
    wait_for(
        lambda: len(list(results.FindList(service_common_pb2.FindListRequest()))) == 3,
        "three stored results",
    )

    first = jobs.Enqueue(
        job_service_pb2.JobRequest(worker_name="sleeper", args=command_args("sleep", "120"))
    ).id
    wait_for(lambda: statuses.Find(first).status == common_pb2.RUNNING, "a running job")
    for _ in range(2):
        jobs.Enqueue(
            job_service_pb2.JobRequest(worker_name="sleeper", args=command_args("sleep", "120"))
        )
    in_an_hour_ms = int(time.time() * 1000) + 3_600_000
    jobs.Enqueue(
        job_service_pb2.JobRequest(
            worker_name="later", args=command_args("date"), run_after_time=in_an_hour_ms
        )
    )
    channel.close()


@pytest.fixture(scope="module")
def data_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server with the fixed data for every snapshot that only reads."""
    server = ServerProcess(tmp_path_factory.mktemp("snapshots"), dict(SERVER_ENV))
    server.start()
    try:
        set_up_data(server.address)
        yield server
    finally:
        server.stop()


def snapshot_app(address: str, **options: Any) -> DashboardApp:
    """An app whose data do not move while the screenshot is taken."""
    values: dict[str, Any] = {
        "load_interval_ms": 60_000,
        "table_refresh_s": 3600,
        "server_label": "localhost:9000",
    }
    values.update(options)
    return make_app(address, **values)


async def until(pilot: Pilot[Any], check: Callable[[], Any], message: str) -> None:
    deadline = time.monotonic() + 15
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} not met within 15 s")
        await pilot.pause(0.05)


def dashboard(pilot: Pilot[Any]) -> DashboardApp:
    app = pilot.app
    assert isinstance(app, DashboardApp)
    return app


def mask_rows(
    table: ResourceTable, columns: set[str], keep: Callable[[Row], bool] = lambda _: True
) -> None:
    """Replace the cells of `columns` with a fixed text and keep only the rows `keep` accepts."""
    indexes = [index for index, column in enumerate(table.columns) if column.key in columns]
    masked = []
    for row in table.rows:
        if not keep(row):
            continue
        cells = tuple(MASK if index in indexes else cell for index, cell in enumerate(row.cells))
        masked.append(Row(key=row.key, cells=cells, sort_values=row.sort_values))
    table.set_rows(masked)


async def show_table(pilot: Pilot[Any], key: str, rows: int) -> ResourceTable:
    await pilot.press(key)
    table = pilot.app.screen.query_one(ResourceTable)
    await until(pilot, lambda: len(table.rows) >= rows, f"{rows} rows")
    return table


def mask_server_panel(app: DashboardApp) -> None:
    panel = app.screen.query_one("#server-panel", StatsPanel)
    panel.stats = tuple(
        (label, MASK if label == "uptime" else value) for label, value in panel.stats
    )


def test_overview_with_load(snap_compare: Compare, data_server: ServerProcess) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = dashboard(pilot)
        await until(pilot, lambda: app.snapshot is not None, "a load snapshot")
        mask_server_panel(app)

    app = snapshot_app(data_server.address)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_overview_disconnected(snap_compare: Compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = dashboard(pilot)
        await until(
            pilot, lambda: app.connection.state is ConnectionState.DISCONNECTED, "disconnected"
        )
        # The real error names the port and the retry delay has jitter.
        app.workers.cancel_group(app, "connection")
        app.connection = ConnectionStatus(
            ConnectionState.DISCONNECTED,
            error="health check failed: UNAVAILABLE: connection refused",
            retry_in_s=4.0,
            attempt=3,
        )

    app = snapshot_app("127.0.0.1:1")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_runners_table(snap_compare: Compare, data_server: ServerProcess) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        table = await show_table(pilot, "2", 1)
        # Other built-in runners come and go with the project; COMMAND stays.
        mask_rows(table, set(), keep=lambda row: row.key == "1")

    assert snap_compare(
        snapshot_app(data_server.address), terminal_size=SIZE, run_before=run_before
    )


def test_workers_table(snap_compare: Compare, data_server: ServerProcess) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await show_table(pilot, "3", 3)

    assert snap_compare(
        snapshot_app(data_server.address), terminal_size=SIZE, run_before=run_before
    )


def test_jobs_table(snap_compare: Compare, data_server: ServerProcess) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        table = await show_table(pilot, "4", 4)
        table.sort_column = "where"
        mask_rows(table, {"id", "run_after", "enqueued"})

    assert snap_compare(
        snapshot_app(data_server.address), terminal_size=SIZE, run_before=run_before
    )


def test_results_table(snap_compare: Compare, data_server: ServerProcess) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        table = await show_table(pilot, "5", 3)
        table.sort_column = "status"
        mask_rows(table, {"id", "job", "started", "duration", "output"})

    assert snap_compare(
        snapshot_app(data_server.address), terminal_size=SIZE, run_before=run_before
    )


def test_result_details(snap_compare: Compare, data_server: ServerProcess) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = dashboard(pilot)
        table = await show_table(pilot, "5", 3)
        table.sort_column = "status"
        table.sort_reverse = True
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailsScreen), "details")
        screen = app.screen
        assert isinstance(screen, DetailsScreen)
        await until(pilot, lambda: screen.details is not None, "loaded details")
        await mask_details(screen)

    assert snap_compare(
        snapshot_app(data_server.address), terminal_size=SIZE, run_before=run_before
    )


async def mask_details(screen: DetailsScreen) -> None:
    details = screen.details
    assert details is not None
    volatile = {"id", "job", "enqueued", "run after", "started", "ended", "duration", "metadata"}
    fields = tuple((label, MASK if label in volatile else value) for label, value in details.fields)
    masked = Details(title="Job result ‹masked›", fields=fields, sections=details.sections)
    screen.query_one("#details-title", Static).update(masked.title)
    container = screen.query_one("#details")
    await container.remove_children()
    await container.mount_all(screen._widgets_of(masked))


def test_enqueue_form(snap_compare: Compare, data_server: ServerProcess) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = dashboard(pilot)
        await show_table(pilot, "3", 3)
        await pilot.press("end", "x")
        await until(pilot, lambda: isinstance(app.screen, EnqueueScreen), "the enqueue form")
        await until(pilot, lambda: app.screen.query("#args-command"), "the args fields")
        app.screen.query_one("#args-command", Input).value = "echo"

    assert snap_compare(
        snapshot_app(data_server.address), terminal_size=SIZE, run_before=run_before
    )


def test_worker_form(snap_compare: Compare, data_server: ServerProcess) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = dashboard(pilot)
        await show_table(pilot, "3", 3)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, WorkerFormScreen), "the worker form")

    assert snap_compare(
        snapshot_app(data_server.address), terminal_size=SIZE, run_before=run_before
    )


def test_keys_screen(snap_compare: Compare, data_server: ServerProcess) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await show_table(pilot, "3", 3)

    app = snapshot_app(data_server.address)
    assert snap_compare(app, press=["question_mark"], terminal_size=SIZE, run_before=run_before)


def test_confirm_delete(snap_compare: Compare, data_server: ServerProcess) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await show_table(pilot, "3", 3)

    app = snapshot_app(data_server.address)
    assert snap_compare(app, press=["d"], terminal_size=SIZE, run_before=run_before)


def test_live_results(snap_compare: Compare, tui_server: ServerProcess) -> None:
    channel = grpc.insecure_channel(tui_server.address)
    worker_pb2_grpc.WorkerServiceStub(channel).Create(
        worker_pb2.WorkerData(
            name="echo", runner_id=runner_pb2.RunnerId(value=1), broadcast_results=True
        )
    )
    channel.close()

    async def run_before(pilot: Pilot[Any]) -> None:
        app = dashboard(pilot)
        await pilot.press("6")
        screen = app.screen
        assert isinstance(screen, LiveResultsScreen)
        screen.select_worker(1)
        await until(pilot, lambda: screen.listen_status.get(1) == "echo: listening", "a listener")
        async with grpc.aio.insecure_channel(tui_server.address) as aio_channel:
            await job_pb2_grpc.JobServiceStub(aio_channel).Enqueue(
                job_service_pb2.JobRequest(worker_name="echo", args=command_args("echo", "live"))
            )
        table = screen.query_one(ResourceTable)
        await until(pilot, lambda: len(table.rows) == 1, "the live result")
        mask_rows(table, {"id", "job", "started", "duration", "output"})

    assert snap_compare(snapshot_app(tui_server.address), terminal_size=SIZE, run_before=run_before)
