"""Workers: list, create, edit, delete, and enqueue a job for one."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType

from jwp.proto.jobworkerp.data import common_pb2, worker_pb2

from ..formatting import NONE_SHOWN, channel_label, enum_name, format_duration_ms
from ..widgets.resource_table import Column, Row
from .resource_screen import ResourceScreen


class WorkersScreen(ResourceScreen):
    TITLE_TEXT = "Workers"
    COLUMNS = (
        Column("id", "id"),
        Column("name", "name"),
        Column("runner", "runner"),
        Column("channel", "channel"),
        Column("queue", "queue"),
        Column("response", "response"),
        Column("periodic", "periodic"),
        Column("retry", "retry"),
        Column("flags", "flags"),
    )
    SORT_COLUMN = "id"

    WRITE_ACTIONS = frozenset({"new_worker", "edit_worker", "delete_worker", "enqueue"})

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "new_worker", "New"),
        Binding("e", "edit_worker", "Edit"),
        Binding("d", "delete_worker", "Delete"),
        Binding("x", "enqueue", "Enqueue job"),
        Binding("l", "listen", "Live results"),
    ]

    async def fetch_rows(self) -> list[Row]:
        workers = await self.dashboard.client.list_workers()
        rows = []
        for worker in workers:
            runner = await self.dashboard.schemas.find(worker.data.runner_id.value)
            runner_name = (
                runner.data.name if runner is not None else str(worker.data.runner_id.value)
            )
            rows.append(_row_of(worker, runner_name))
        return rows

    def _selected_worker_id(self) -> int | None:
        key = self.selected_key
        return int(key) if key is not None else None

    def open_row(self, key: str) -> None:
        self.dashboard.show_worker(int(key))

    def action_new_worker(self) -> None:
        self.dashboard.create_worker()

    def action_edit_worker(self) -> None:
        worker_id = self._selected_worker_id()
        if worker_id is not None:
            self.dashboard.edit_worker(worker_id)

    def action_delete_worker(self) -> None:
        worker_id = self._selected_worker_id()
        if worker_id is not None:
            self.dashboard.delete_worker(worker_id)

    def action_enqueue(self) -> None:
        self.dashboard.enqueue_job(self._selected_worker_id())

    def action_listen(self) -> None:
        worker_id = self._selected_worker_id()
        if worker_id is not None:
            self.dashboard.listen_to_worker(worker_id)


def _row_of(worker: worker_pb2.Worker, runner_name: str) -> Row:
    data = worker.data
    channel = channel_label(data.channel if data.HasField("channel") else "")
    periodic = format_duration_ms(data.periodic_interval) if data.periodic_interval else NONE_SHOWN
    retry = _describe_retry(data.retry_policy) if data.HasField("retry_policy") else NONE_SHOWN
    flags = [
        label
        for label, on in (
            ("store-success", data.store_success),
            ("store-failure", data.store_failure),
            ("broadcast", data.broadcast_results),
            ("static", data.use_static),
        )
        if on
    ]
    return Row(
        key=str(worker.id.value),
        cells=(
            str(worker.id.value),
            data.name,
            runner_name,
            channel,
            enum_name(common_pb2.QueueType, data.queue_type),
            enum_name(common_pb2.ResponseType, data.response_type),
            periodic,
            retry,
            " ".join(flags),
        ),
        sort_values=(
            worker.id.value,
            data.name,
            runner_name,
            channel,
            data.queue_type,
            data.response_type,
            data.periodic_interval,
            data.retry_policy.max_retry,
            " ".join(flags),
        ),
    )


def _describe_retry(policy: common_pb2.RetryPolicy) -> str:
    if policy.type == common_pb2.NONE or policy.max_retry == 0:
        return "none"
    kind = enum_name(common_pb2.RetryType, policy.type).lower()
    return f"{kind} ×{policy.max_retry}"
