"""Jobs: RDB rows and queued jobs of every channel, with their status; cancel and enqueue.

Three sources meet here. JobService.FindList lists the jobs stored in the
RDB (scheduled, periodic, FORCED_RDB and WITH_BACKUP jobs),
FindQueueList the jobs waiting in each channel's immediate queue, and
JobStatusService.FindAll the status of every unfinished job. A running job
of a NORMAL worker is in neither list, so it shows with its status only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType

from jwp.proto.jobworkerp.data import job_pb2

from ..formatting import (
    NONE_SHOWN,
    channel_label,
    format_time_ms,
    job_status_text,
    priority_name,
)
from ..widgets.resource_table import Column, Row
from .resource_screen import ResourceScreen

LIST_LIMIT = 500
"""Most jobs read from the RDB, and from each channel's queue, per refresh."""


@dataclass
class _JobEntry:
    job_id: int
    job: job_pb2.Job | None = None
    places: list[str] = field(default_factory=list)
    status: int | None = None


class JobsScreen(ResourceScreen):
    TITLE_TEXT = "Jobs (RDB, queues and running)"
    COLUMNS = (
        Column("id", "id"),
        Column("worker", "worker"),
        Column("where", "where"),
        Column("status", "status"),
        Column("priority", "priority"),
        Column("run_after", "run after"),
        Column("retried", "retried"),
        Column("enqueued", "enqueued"),
    )
    SORT_COLUMN = "enqueued"
    SORT_REVERSE = True

    WRITE_ACTIONS = frozenset({"cancel_job", "enqueue"})

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "cancel_job", "Cancel/delete"),
        Binding("x", "enqueue", "Enqueue job"),
    ]

    async def fetch_rows(self) -> list[Row]:
        client = self.dashboard.client
        entries: dict[int, _JobEntry] = {}

        for job in await client.list_jobs(LIST_LIMIT):
            entry = entries.setdefault(job.id.value, _JobEntry(job.id.value))
            entry.job = job
            entry.places.append("rdb")
        for channel in await self._channels():
            for item in await client.list_queued(channel, LIST_LIMIT):
                entry = entries.setdefault(item.job.id.value, _JobEntry(item.job.id.value))
                entry.job = item.job
                entry.places.append(f"queue {channel_label(channel)}")
        for job_id, status in (await client.job_statuses()).items():
            entries.setdefault(job_id, _JobEntry(job_id)).status = status

        workers = {worker.id.value: worker.data.name for worker in await client.list_workers()}
        return [_row_of(entry, workers) for entry in entries.values()]

    async def _channels(self) -> list[str]:
        """Channels the server serves, plus those the load stream saw (named by workers)."""
        names = [channel.name for channel in await self.dashboard.client.list_channels()]
        snapshot = self.dashboard.snapshot
        if snapshot is not None:
            names += [load.name for load in snapshot.channels if load.name not in names]
        return names

    def _selected_job_id(self) -> int | None:
        key = self.selected_key
        return int(key) if key is not None else None

    def open_row(self, key: str) -> None:
        self.dashboard.show_job(int(key))

    def action_cancel_job(self) -> None:
        job_id = self._selected_job_id()
        if job_id is not None:
            self.dashboard.delete_job(job_id)

    def action_enqueue(self) -> None:
        self.dashboard.enqueue_job()


def _row_of(entry: _JobEntry, workers: dict[int, str]) -> Row:
    job = entry.job
    where = " + ".join(entry.places) if entry.places else "running (memory)"
    if job is None:
        cells: tuple[str | Text, ...] = (
            str(entry.job_id),
            NONE_SHOWN,
            where,
            job_status_text(entry.status),
            NONE_SHOWN,
            NONE_SHOWN,
            NONE_SHOWN,
            NONE_SHOWN,
        )
        return Row(
            key=str(entry.job_id),
            cells=cells,
            sort_values=(entry.job_id, None, where, entry.status, None, None, None, None),
        )

    data = job.data
    worker_name = workers.get(data.worker_id.value, f"#{data.worker_id.value}")
    return Row(
        key=str(entry.job_id),
        cells=(
            str(entry.job_id),
            worker_name,
            where,
            job_status_text(entry.status),
            priority_name(data.priority),
            format_time_ms(data.run_after_time),
            str(data.retried),
            format_time_ms(data.enqueue_time),
        ),
        sort_values=(
            entry.job_id,
            worker_name,
            where,
            entry.status,
            data.priority,
            data.run_after_time,
            data.retried,
            data.enqueue_time,
        ),
    )
