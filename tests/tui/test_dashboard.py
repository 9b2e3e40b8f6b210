"""The dashboard driven with Textual's pilot against a real `jwp serve` in another thread."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TypeVar

from textual.widgets import Input, Select, SelectionList, Static

from jwp.proto.jobworkerp.data import common_pb2, job_pb2, worker_pb2
from jwp.proto.jobworkerp.service import common_pb2 as service_common_pb2
from jwp.tui.app import DashboardApp
from jwp.tui.connection import ConnectionState
from jwp.tui.screens.confirm import ConfirmScreen
from jwp.tui.screens.details import DetailsScreen
from jwp.tui.screens.enqueue import EnqueueScreen
from jwp.tui.screens.jobs import JobsScreen
from jwp.tui.screens.keys import KeysScreen
from jwp.tui.screens.live_results import LiveResultsScreen
from jwp.tui.screens.overview import OverviewScreen
from jwp.tui.screens.results import ResultsScreen
from jwp.tui.screens.runners import RunnersScreen
from jwp.tui.screens.worker_form import WorkerFormScreen
from jwp.tui.screens.workers import WorkersScreen
from jwp.tui.widgets.channel_load_table import ChannelLoadTable
from jwp.tui.widgets.connection_bar import ConnectionBar
from jwp.tui.widgets.output_pager import OutputPager
from jwp.tui.widgets.resource_table import ResourceTable
from jwp.tui.widgets.stats_panel import StatsPanel
from tests.conftest import Stubs
from tests.support.servers import ServerProcess
from tests.support.waiting import eventually
from tests.tui.conftest import SERVER_ENV
from tests.tui.support import create_worker, enqueue, make_app, row_text, table_rows

SIZE = (140, 45)


async def until(check: object, message: str, timeout_s: float = 10) -> object:
    async def probe() -> object:
        return check()  # type: ignore[operator]

    return await eventually(probe, timeout_s=timeout_s, message=message)


async def connected(app: DashboardApp) -> None:
    await until(lambda: app.snapshot is not None, "first load snapshot")


ScreenT = TypeVar("ScreenT")


async def screen_of(app: DashboardApp, kind: type[ScreenT]) -> ScreenT:
    """Wait until the app shows a screen of `kind`, and return it."""
    await until(lambda: isinstance(app.screen, kind), f"a {kind.__name__}")
    screen = app.screen
    assert isinstance(screen, kind)
    return screen


def shown_text(widget: Static) -> str:
    return str(widget.render())


def table_of(app: DashboardApp) -> ResourceTable:
    return app.screen.query_one(ResourceTable)


async def test_overview_follows_channel_load(tui_server: ServerProcess, tui_stubs: Stubs) -> None:
    await create_worker(tui_stubs, "sleeper", channel="slow")
    app = make_app(tui_server.address)
    async with app.run_test(size=SIZE):
        await connected(app)
        assert isinstance(app.screen, OverviewScreen)
        channels = app.screen.query_one(ChannelLoadTable)
        assert row_text(channels, "slow")[:4] == ["slow", "1", "0", "0"]

        job_ids = [await enqueue(tui_stubs, "sleeper", "sleep", "30") for _ in range(3)]
        await until(
            lambda: row_text(channels, "slow")[2:4] == ["1", "2"], "one running, two queued"
        )
        jobs_panel = app.screen.query_one("#jobs-panel", StatsPanel)
        assert jobs_panel.value_of("pending") == "2"
        assert jobs_panel.value_of("running") == "1"

        # Queued jobs first, so that none starts between two deletes.
        for job_id in reversed(job_ids):
            await tui_stubs.jobs.Delete(job_pb2.JobId(value=job_id))
        results = app.screen.query_one("#results-panel", StatsPanel)
        await until(lambda: results.value_of("cancelled") == "3", "three cancelled results")
        await until(lambda: row_text(channels, "slow")[2:4] == ["0", "0"], "an idle channel")


async def test_tables_switch_with_keys_and_palette(
    tui_server: ServerProcess, tui_stubs: Stubs
) -> None:
    await create_worker(tui_stubs, "alpha")
    await create_worker(tui_stubs, "beta", channel="slow")
    app = make_app(tui_server.address)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        assert isinstance(app.screen, RunnersScreen)
        await until(lambda: "1" in table_rows(table_of(app)), "the COMMAND runner row")
        assert table_rows(table_of(app))["1"][1] == "COMMAND"

        await pilot.press("3")
        assert isinstance(app.screen, WorkersScreen)
        await until(lambda: len(table_of(app).shown_keys) == 2, "two worker rows")

        await pilot.press("ctrl+p")
        await pilot.press(*"show jobs")
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, JobsScreen), "the jobs screen")

        await pilot.press("1")
        assert isinstance(app.screen, OverviewScreen)


async def test_table_filters_and_sorts(tui_server: ServerProcess, tui_stubs: Stubs) -> None:
    for name in ("gamma", "alpha", "beta"):
        await create_worker(tui_stubs, name)
    app = make_app(tui_server.address)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        table = table_of(app)
        await until(lambda: len(table.shown_keys) == 3, "three worker rows")
        assert [table_rows(table)[key][1] for key in table.shown_keys] == ["gamma", "alpha", "beta"]

        await pilot.press("s")
        assert table.sort_column == "name"
        assert [table_rows(table)[key][1] for key in table.shown_keys] == ["alpha", "beta", "gamma"]
        await pilot.press("S")
        assert [table_rows(table)[key][1] for key in table.shown_keys] == ["gamma", "beta", "alpha"]

        await pilot.press("slash", *"be")
        assert table.filter_text == "be"
        assert [table_rows(table)[key][1] for key in table.shown_keys] == ["beta"]
        status = table.query_one("#table-status", Static)
        assert "1 of 3 rows match 'be'" in shown_text(status)

        await pilot.press("escape")
        assert table.filter_text == ""
        assert len(table.shown_keys) == 3


async def test_enqueued_job_shows_in_live_results(
    tui_server: ServerProcess, tui_stubs: Stubs
) -> None:
    worker_id = await create_worker(tui_stubs, "echoer", broadcast_results=True, store_success=True)
    app = make_app(tui_server.address)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("6")
        live = app.screen
        assert isinstance(live, LiveResultsScreen)
        picker = live.query_one("#workers", SelectionList)
        await until(lambda: picker.option_count == 1, "the broadcasting worker in the picker")
        picker.focus()
        await pilot.press("down", "space")
        await until(
            lambda: live.listen_status.get(worker_id) == "echoer: listening", "an open listener"
        )
        assert live.listening_to == [worker_id]

        await pilot.press("3")
        await until(lambda: len(table_of(app).shown_keys) == 1, "the worker row")
        await pilot.press("x")
        form = await screen_of(app, EnqueueScreen)
        await until(lambda: form.query("#args-command"), "the args fields of CommandArgs")
        form.query_one("#args-command", Input).value = "echo"
        form.query_one("#args-args", Input).value = '["hello", "live"]'
        await pilot.press("ctrl+s")
        await screen_of(app, ConfirmScreen)
        assert "args: " in app.screen.summary  # type: ignore[attr-defined]
        await pilot.press("y")

        await pilot.press("6")
        results = live.query_one(ResourceTable)
        await until(lambda: len(results.shown_keys) == 1, "the result in the live pane")
        row = table_rows(results)[results.shown_keys[0]]
        assert row[3] == "echoer"
        assert row[4] == "SUCCESS"

        await pilot.press("tab", "enter")
        details = await screen_of(app, DetailsScreen)
        await until(lambda: details.details is not None, "loaded details")
        assert details.details is not None
        args, output = (section.decoded.value for section in details.details.sections)
        assert args == {"command": "echo", "args": ["hello", "live"]}
        assert output is not None
        assert output["stdout"].strip() == "hello live"


async def test_cancelled_job_changes_status(tui_server: ServerProcess, tui_stubs: Stubs) -> None:
    await create_worker(tui_stubs, "sleeper", channel="slow", store_failure=True)
    first = await enqueue(tui_stubs, "sleeper", "sleep", "30")
    second = await enqueue(tui_stubs, "sleeper", "sleep", "30")
    app = make_app(tui_server.address)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        table = table_of(app)
        await until(
            lambda: (
                table_rows(table).get(str(first), [""] * 4)[3] == "RUNNING"
                and table_rows(table).get(str(second), [""] * 4)[3] == "PENDING"
            ),
            "a running and a pending job",
        )
        assert table_rows(table)[str(second)][2] == "queue slow"

        table.data_table.move_cursor(row=table.shown_keys.index(str(first)))
        await pilot.press("d")
        await screen_of(app, ConfirmScreen)
        await pilot.press("y")

        await until(lambda: str(first) not in table_rows(table), "the cancelled job gone")
        await until(
            lambda: table_rows(table).get(str(second), [""] * 4)[3] == "RUNNING",
            "the second job running",
        )
        await pilot.press("5")
        results = table_of(app)
        await until(lambda: len(results.shown_keys) == 1, "the CANCELLED result")
        assert table_rows(results)[results.shown_keys[0]][3] == "CANCELLED"
        await tui_stubs.jobs.Delete(job_pb2.JobId(value=second))


async def test_read_only_hides_actions(tui_server: ServerProcess, tui_stubs: Stubs) -> None:
    await create_worker(tui_stubs, "alpha")
    app = make_app(tui_server.address, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await until(lambda: len(table_of(app).shown_keys) == 1, "the worker row")
        keys = set(app.screen.active_bindings)
        assert {"n", "e", "d", "x"}.isdisjoint(keys)
        assert "l" in keys

        await pilot.press("d")
        await pilot.press("n")
        assert isinstance(app.screen, WorkersScreen)
        commands = [command.title for command in app.get_system_commands(app.screen)]
        assert "Enqueue a job" not in commands
        assert "Show jobs" in commands


async def test_keys_screen_lists_screen_keys(tui_server: ServerProcess) -> None:
    app = make_app(tui_server.address)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3", "question_mark")
        keys = app.screen
        assert isinstance(keys, KeysScreen)
        rows = dict((description, key) for key, description in keys.rows)
        assert rows["New"] == "n"
        assert rows["Filter"] == "/"
        assert rows["Open"] == "enter"
        assert rows["Keys"] == "?"
        assert "Up" not in rows
        await pilot.press("escape")
        assert isinstance(app.screen, WorkersScreen)


async def test_worker_create_edit_delete(tui_server: ServerProcess, tui_stubs: Stubs) -> None:
    app = make_app(tui_server.address)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        status = table_of(app).query_one("#table-status", Static)
        await until(lambda: "0 rows" in shown_text(status), "an empty table")
        await pilot.press("n")
        form = await screen_of(app, WorkerFormScreen)
        form.query_one("#name", Input).value = "built"
        form.query_one("#runner", Select).value = 1
        form.query_one("#channel", Input).value = "slow"
        hint = form.query_one(".schema-hint", Static)
        await until(lambda: "no schema" in shown_text(hint), "raw settings")
        await pilot.press("ctrl+s")
        await screen_of(app, ConfirmScreen)
        await pilot.press("y")
        await until(lambda: len(table_of(app).shown_keys) == 1, "the new worker row")
        worker_id = int(table_of(app).shown_keys[0])
        stored = (await tui_stubs.workers.Find(worker_pb2.WorkerId(value=worker_id))).data
        assert stored.data.name == "built"
        assert stored.data.channel == "slow"

        await pilot.press("e")
        form = await screen_of(app, WorkerFormScreen)
        assert form.query_one("#name", Input).value == "built"
        form.query_one("#description", Input).value = "changed from the dashboard"
        form.query_one("#broadcast-results").value = True  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await screen_of(app, ConfirmScreen)
        await pilot.press("y")

        async def updated() -> bool:
            found = (await tui_stubs.workers.Find(worker_pb2.WorkerId(value=worker_id))).data
            return found.data.description == "changed from the dashboard"

        await eventually(updated, message="the updated description")
        found = (await tui_stubs.workers.Find(worker_pb2.WorkerId(value=worker_id))).data
        assert found.data.broadcast_results
        assert found.data.channel == "slow"

        await pilot.press("d")
        await screen_of(app, ConfirmScreen)
        await pilot.press("y")
        await until(lambda: table_of(app).shown_keys == [], "the worker gone")
        gone = await tui_stubs.workers.Find(worker_pb2.WorkerId(value=worker_id))
        assert not gone.HasField("data")


async def test_result_details_page_and_delete(tui_server: ServerProcess, tui_stubs: Stubs) -> None:
    await create_worker(tui_stubs, "printer", store_success=True)
    script = "import sys; sys.stdout.write('line of output\\n' * 5000); sys.stdout.flush()"
    await enqueue(tui_stubs, "printer", sys.executable, "-c", script)

    async def stored() -> bool:
        listed = [r async for r in tui_stubs.results.FindList(service_common_pb2.FindListRequest())]
        return len(listed) == 1

    await eventually(stored, message="the stored result")
    app = make_app(tui_server.address)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        table = table_of(app)
        await until(lambda: len(table.shown_keys) == 1, "the result row")
        await pilot.press("enter")
        details = await screen_of(app, DetailsScreen)
        await until(lambda: details.query(OutputPager), "the stdout pager")
        pager = details.query_one(OutputPager)
        assert pager.border_title == "output.stdout"
        assert len(pager.pages) == 50
        assert "73.2 KiB, 5000 lines · page 1 of 50" in pager.header_text()
        await pilot.press("n", "n")
        assert pager.page == 2
        await pilot.press("p")
        assert pager.page == 1

        await pilot.press("escape")
        assert isinstance(app.screen, ResultsScreen)
        await pilot.press("d")
        await screen_of(app, ConfirmScreen)
        await pilot.press("y")
        await until(lambda: table.shown_keys == [], "the deleted result gone")


async def test_pager_marks_invalid_utf8(tui_server: ServerProcess, tui_stubs: Stubs) -> None:
    await create_worker(tui_stubs, "bytes", store_success=True, broadcast_results=True)
    script = "import sys; sys.stdout.buffer.write(b'ok \\xff\\xfe end\\n')"
    await enqueue(tui_stubs, "bytes", sys.executable, "-c", script)

    async def stored() -> bool:
        listed = [r async for r in tui_stubs.results.FindList(service_common_pb2.FindListRequest())]
        return len(listed) == 1

    await eventually(stored, message="the stored result")
    app = make_app(tui_server.address)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        await until(lambda: len(table_of(app).shown_keys) == 1, "the result row")
        await pilot.press("enter")
        details = await screen_of(app, DetailsScreen)
        await until(lambda: details.query(OutputPager), "the stdout pager")
        header = details.query_one(OutputPager).header_text()
        assert "2 replacement characters (\ufffd) mark bytes that were not valid UTF-8" in header


async def test_job_details_decode_args(tui_server: ServerProcess, tui_stubs: Stubs) -> None:
    await create_worker(tui_stubs, "rdb", queue_type=common_pb2.FORCED_RDB, channel="nowhere")
    job_id = await enqueue(tui_stubs, "rdb", "echo", "from", "the", "rdb")
    app = make_app(tui_server.address)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        table = table_of(app)
        await until(lambda: str(job_id) in table_rows(table), "the RDB job row")
        assert table_rows(table)[str(job_id)][1:4] == ["rdb", "rdb", "PENDING"]
        await pilot.press("enter")
        details = await screen_of(app, DetailsScreen)
        await until(lambda: details.details is not None, "loaded details")
        assert details.details is not None
        fields = dict(details.details.fields)
        assert fields["runner"] == "COMMAND"
        assert details.details.sections[0].decoded.value == {
            "command": "echo",
            "args": ["from", "the", "rdb"],
        }


async def test_disconnect_and_recover_on_restart(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, dict(SERVER_ENV))
    server.start()
    port = server.port
    app = make_app(server.address)
    try:
        async with app.run_test(size=SIZE):
            await connected(app)
            overview = app.screen
            assert isinstance(overview, OverviewScreen)

            await asyncio.to_thread(server.stop)
            await until(
                lambda: app.connection.state is ConnectionState.DISCONNECTED, "disconnected"
            )
            assert overview.has_class("-disconnected")
            banner = shown_text(overview.query_one("#banner", Static))
            assert "Disconnected from 127.0.0.1:" in banner
            assert "Reconnecting in" in banner
            assert "-disconnected" in overview.query_one(ConnectionBar).classes

            server = ServerProcess(tmp_path, {**SERVER_ENV, "GRPC_ADDR": f"127.0.0.1:{port}"})
            await asyncio.to_thread(server.start)
            await until(
                lambda: app.connection.state is ConnectionState.CONNECTED,
                "reconnected",
                timeout_s=30,
            )
            restarted_uptime = app.snapshot.server.uptime_ms if app.snapshot else None
            await until(
                lambda: (
                    app.snapshot is not None
                    and app.snapshot.server.uptime_ms < 10_000
                    and app.snapshot.server.uptime_ms != restarted_uptime
                ),
                "a snapshot of the restarted server",
            )
            assert not overview.has_class("-disconnected")
            assert app.health == "SERVING"
    finally:
        await asyncio.to_thread(server.stop)


async def test_enqueue_form_error_scrolled_into_view(
    tui_server: ServerProcess, tui_stubs: Stubs
) -> None:
    await create_worker(tui_stubs, "echoer")
    app = make_app(tui_server.address)
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.press("3")
        await until(lambda: len(table_of(app).shown_keys) == 1, "the worker row")
        await pilot.press("x")
        form = await screen_of(app, EnqueueScreen)
        await until(lambda: form.query("#args-command"), "the args fields of CommandArgs")
        form.query_one("#args-command", Input).value = "echo"
        form.query_one("#args-args", Input).value = "[not json"
        form.query_one("#args-command", Input).focus()
        await pilot.pause()

        await pilot.press("ctrl+s")

        error = form.query_one("#error", Static)
        await until(lambda: "args" in shown_text(error), "the error message")
        await until(
            lambda: error.region.height > 0 and form.screen.region.contains_region(error.region),
            "the error message in view",
        )
        assert isinstance(app.screen, EnqueueScreen)
