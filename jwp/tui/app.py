"""The dashboard application: modes for each screen, the connection, and the actions.

The app owns the gRPC client and the state that outlives screen switches:
the connection status, the server's health, the latest load snapshot and
the throughput history. Screens watch these reactives. Calls to the server
run in Textual workers, so input does not wait on the network.
Actions that change the server open a form, then ask for confirmation,
then send; `--read-only` hides them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.screen import Screen

from jwp.cli.client import Target
from jwp.proto.jobworkerp.data import common_pb2, job_pb2, job_result_pb2, worker_pb2
from jwp.proto.jwp.service import dashboard_pb2

from . import details
from .client import ClientError, JwpClient
from .connection import ConnectionState, ConnectionStatus, ServerMonitor
from .formatting import channel_label, enum_name
from .load_history import LoadHistory
from .schemas import RunnerSchemas
from .screens.confirm import ConfirmScreen
from .screens.details import DetailsScreen
from .screens.enqueue import EnqueueScreen
from .screens.jobs import JobsScreen
from .screens.keys import KeysScreen
from .screens.live_results import LiveResultsScreen
from .screens.overview import OverviewScreen
from .screens.resource_screen import ResourceScreen
from .screens.results import ResultsScreen
from .screens.runners import RunnersScreen
from .screens.worker_form import WorkerFormScreen
from .screens.workers import WorkersScreen

logger = logging.getLogger(__name__)

SCREEN_TITLES = {
    "overview": "Overview",
    "runners": "Runners",
    "workers": "Workers",
    "jobs": "Jobs",
    "results": "Job results",
    "live": "Live results",
}


class DashboardApp(App[None]):
    """`jwp tui`: a live dashboard over the jobworkerp gRPC API of one server."""

    TITLE = "jwp dashboard"

    MODES: ClassVar[dict[str, type[Screen[None]]]] = {  # type: ignore[assignment]
        "overview": OverviewScreen,
        "runners": RunnersScreen,
        "workers": WorkersScreen,
        "jobs": JobsScreen,
        "results": ResultsScreen,
        "live": LiveResultsScreen,
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "show('overview')", "Overview"),
        Binding("2", "show('runners')", "Runners"),
        Binding("3", "show('workers')", "Workers"),
        Binding("4", "show('jobs')", "Jobs"),
        Binding("5", "show('results')", "Results"),
        Binding("6", "show('live')", "Live"),
        Binding("question_mark", "show_keys", "Keys", key_display="?"),
        Binding("q", "quit", "Quit"),
    ]

    connection: reactive[ConnectionStatus] = reactive(ConnectionStatus(ConnectionState.CONNECTING))
    health: reactive[str] = reactive("")
    snapshot: reactive[dashboard_pb2.ChannelLoadSnapshot | None] = reactive(
        None, always_update=True
    )
    load_unavailable: reactive[str] = reactive("")
    """Reason the server sends no channel load (not a jwp server), or empty."""

    def __init__(
        self,
        address: Target,
        *,
        read_only: bool = False,
        auth_token: str | None = None,
        load_interval_ms: int = 1000,
        table_refresh_s: float = 5.0,
        server_label: str | None = None,
    ) -> None:
        """Create the dashboard; it connects when it starts running.

        Args:
            address: The server to follow.
            read_only: Hide every action that changes the server.
            auth_token: Sent as the `jobworkerp-auth` header when the server requires one.
            load_interval_ms: Interval of the channel load stream.
            table_refresh_s: How often a shown table fetches its rows again.
            server_label: How the server is named on screen; the address by default.
        """
        super().__init__()
        self.address = address
        self.read_only = read_only
        self.auth_token = auth_token
        self.load_interval_ms = load_interval_ms
        self.table_refresh_s = table_refresh_s
        self.server_label = server_label or address.address
        self.history = LoadHistory()
        self._client: JwpClient | None = None
        self._schemas: RunnerSchemas | None = None

    @property
    def client(self) -> JwpClient:
        assert self._client is not None, "the client exists once the app is mounted"
        return self._client

    @property
    def schemas(self) -> RunnerSchemas:
        assert self._schemas is not None, "the schemas exist once the app is mounted"
        return self._schemas

    async def on_mount(self) -> None:
        # The gRPC channel binds to the running event loop, so it is created here.
        self._client = JwpClient(self.address, auth_token=self.auth_token)
        self._schemas = RunnerSchemas(self._client)
        self.follow_server()
        await self.switch_mode("overview")

    async def on_unmount(self) -> None:
        self.workers.cancel_all()
        if self._client is not None:
            await self._client.close()

    @work(group="connection")
    async def follow_server(self) -> None:
        monitor = ServerMonitor(
            self.client,
            interval_ms=self.load_interval_ms,
            on_status=self._set_connection,
            on_health=self._set_health,
            on_snapshot=self._set_snapshot,
            on_load_unavailable=self._set_load_unavailable,
        )
        await monitor.run()

    def _set_connection(self, status: ConnectionStatus) -> None:
        self.connection = status

    def _set_health(self, health: str) -> None:
        self.health = health

    def _set_snapshot(self, snapshot: dashboard_pb2.ChannelLoadSnapshot) -> None:
        self.history.add(snapshot)
        self.load_unavailable = ""
        self.snapshot = snapshot

    def _set_load_unavailable(self, reason: str) -> None:
        self.load_unavailable = reason

    # Navigation

    async def action_show(self, mode: str) -> None:
        await self.switch_mode(mode)

    def action_show_keys(self) -> None:
        if isinstance(self.screen, KeysScreen):
            return
        title = SCREEN_TITLES.get(self.current_mode, self.current_mode)
        self.push_screen(KeysScreen(title, self.screen.active_bindings.values()))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for mode, title in SCREEN_TITLES.items():
            yield SystemCommand(
                f"Show {title.lower()}",
                f"Switch to the {title.lower()} screen",
                self._switcher(mode),
            )
        if not self.read_only:
            yield SystemCommand("Enqueue a job", "Open the enqueue form", self.enqueue_job)
            yield SystemCommand("Create a worker", "Open the worker form", self.create_worker)

    def _switcher(self, mode: str) -> Callable[[], object]:
        async def switch_mode() -> None:
            await self.switch_mode(mode)

        def switch() -> None:
            self.run_worker(switch_mode())

        return switch

    def show_jobs_of_channel(self, channel: str) -> None:
        self.run_worker(self._show_jobs_of_channel(channel))

    async def _show_jobs_of_channel(self, channel: str) -> None:
        await self.switch_mode("jobs")
        screen = self.screen
        if isinstance(screen, JobsScreen):
            screen.table.filter_text = f"queue {channel_label(channel)}"

    def listen_to_worker(self, worker_id: int) -> None:
        self.run_worker(self._listen_to_worker(worker_id))

    async def _listen_to_worker(self, worker_id: int) -> None:
        await self.switch_mode("live")
        screen = self.screen
        if isinstance(screen, LiveResultsScreen):
            screen.select_worker(worker_id)

    # Details

    def show_job(self, job: job_pb2.Job | int, status: int | None = None) -> None:
        job_id = job if isinstance(job, int) else job.id.value

        async def load() -> details.Details:
            found = job if isinstance(job, job_pb2.Job) else await self.client.find_job(job_id)
            if found is None:
                raise ClientError(
                    f"job {job_id} is not stored in the RDB (a queued or running NORMAL job); "
                    "its result appears under job results when it ends"
                )
            current = status if status is not None else await self.client.job_status(job_id)
            return await details.job_details(self.client, self.schemas, found, current)

        self.push_screen(DetailsScreen(f"Job {job_id}", load))

    def show_result(self, result: job_result_pb2.JobResult) -> None:
        async def load() -> details.Details:
            return await details.result_details(self.client, self.schemas, result)

        self.push_screen(DetailsScreen(f"Job result {result.id.value}", load))

    def show_worker(self, worker_id: int) -> None:
        async def load() -> details.Details:
            return await details.worker_details(self.client, self.schemas, worker_id)

        self.push_screen(DetailsScreen(f"Worker {worker_id}", load))

    def show_runner(self, runner_id: int) -> None:
        async def load() -> details.Details:
            return await details.runner_details(self.schemas, runner_id)

        self.push_screen(DetailsScreen(f"Runner {runner_id}", load))

    # Actions that change the server: form, confirmation, call, notification.

    def _refresh_screen(self) -> None:
        screen = self.screen
        if isinstance(screen, ResourceScreen):
            screen.reload()

    def _report(self, error: ClientError) -> None:
        logger.warning("%s", error)
        self.notify(str(error), title="Failed", severity="error", timeout=10)

    @work(group="actions")
    async def enqueue_job(self, worker_id: int | None = None) -> None:
        try:
            workers = await self.client.list_workers()
        except ClientError as error:
            self._report(error)
            return
        prepared = await self.push_screen_wait(EnqueueScreen(workers, self.schemas, worker_id))
        if prepared is None:
            return
        question = f"Enqueue a job for worker {prepared.worker.data.name!r}?"
        if not await self.push_screen_wait(
            ConfirmScreen(question, prepared.summary, confirm_label="Enqueue")
        ):
            return
        try:
            response = await self.client.enqueue(prepared.request)
        except ClientError as error:
            self._report(error)
            return
        message = f"job {response.id.value} enqueued for {prepared.worker.data.name}"
        if response.HasField("result"):
            status = enum_name(common_pb2.ResultStatus, response.result.data.status)
            message = f"job {response.id.value} finished: {status}"
        self.notify(message, title="Enqueued")
        self._refresh_screen()

    @work(group="actions")
    async def delete_job(self, job_id: int) -> None:
        question = f"Cancel and delete job {job_id}?"
        summary = "A pending job gets a CANCELLED result; a running job is stopped first."
        if not await self.push_screen_wait(
            ConfirmScreen(question, summary, confirm_label="Cancel job")
        ):
            return
        try:
            deleted = await self.client.delete_job(job_id)
        except ClientError as error:
            self._report(error)
            return
        if deleted:
            self.notify(f"job {job_id} cancelled", title="Deleted")
        else:
            self.notify(f"job {job_id} was not found; it may have finished", severity="warning")
        self._refresh_screen()

    @work(group="actions")
    async def delete_result(self, result_id: int) -> None:
        if not await self.push_screen_wait(ConfirmScreen(f"Delete job result {result_id}?")):
            return
        try:
            deleted = await self.client.delete_result(result_id)
        except ClientError as error:
            self._report(error)
            return
        if deleted:
            self.notify(f"job result {result_id} deleted", title="Deleted")
        else:
            self.notify(f"job result {result_id} was not found", severity="warning")
        self._refresh_screen()

    @work(group="actions")
    async def create_worker(self) -> None:
        await self._save_worker(None)

    @work(group="actions")
    async def edit_worker(self, worker_id: int) -> None:
        try:
            worker = await self.client.find_worker(worker_id)
        except ClientError as error:
            self._report(error)
            return
        if worker is None:
            self.notify(f"worker {worker_id} was not found", severity="warning")
            return
        await self._save_worker(worker)

    async def _save_worker(self, existing: worker_pb2.Worker | None) -> None:
        try:
            runners = await self.client.list_runners()
            channels = [channel.name for channel in await self.client.list_channels()]
        except ClientError as error:
            self._report(error)
            return
        self.schemas.remember(runners)
        form = WorkerFormScreen(runners, channels, self.schemas, existing)
        result = await self.push_screen_wait(form)
        if result is None:
            return
        verb = "Create" if existing is None else "Update"
        question = f"{verb} worker {result.data.name!r}?"
        if not await self.push_screen_wait(
            ConfirmScreen(question, result.summary, confirm_label=verb)
        ):
            return
        try:
            if existing is None:
                worker_id = await self.client.create_worker(result.data)
            else:
                worker_id = existing.id.value
                await self.client.update_worker(worker_pb2.Worker(id=existing.id, data=result.data))
        except ClientError as error:
            self._report(error)
            return
        self.notify(f"worker {result.data.name} (#{worker_id}) saved", title=f"{verb}d")
        self._refresh_screen()

    @work(group="actions")
    async def delete_worker(self, worker_id: int) -> None:
        question = f"Delete worker {worker_id}?"
        summary = "Its queued jobs are dropped when a dispatcher takes them."
        if not await self.push_screen_wait(
            ConfirmScreen(question, summary, confirm_label="Delete")
        ):
            return
        try:
            deleted = await self.client.delete_worker(worker_id)
        except ClientError as error:
            self._report(error)
            return
        if deleted:
            self.notify(f"worker {worker_id} deleted", title="Deleted")
        else:
            self.notify(f"worker {worker_id} was not found", severity="warning")
        self._refresh_screen()
