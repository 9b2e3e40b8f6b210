"""Job results stored in the RDB: list, open, delete."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType

from jwp.proto.jobworkerp.data import job_result_pb2

from ..formatting import format_bytes, format_duration_ms, format_time_ms, result_status_text
from ..widgets.resource_table import Column, Row
from .resource_screen import ResourceScreen

LIST_LIMIT = 500
"""Most results read per refresh, newest job first."""


class ResultsScreen(ResourceScreen):
    TITLE_TEXT = "Job results"
    COLUMNS = (
        Column("id", "id"),
        Column("job", "job"),
        Column("worker", "worker"),
        Column("status", "status"),
        Column("retried", "retried"),
        Column("started", "started"),
        Column("duration", "duration"),
        Column("output", "output"),
    )
    SORT_COLUMN = "started"
    SORT_REVERSE = True

    WRITE_ACTIONS = frozenset({"delete_result"})

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "delete_result", "Delete"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._results: dict[str, job_result_pb2.JobResult] = {}

    async def fetch_rows(self) -> list[Row]:
        results = await self.dashboard.client.list_results(LIST_LIMIT)
        rows = [result_row(result) for result in results]
        self._results = {row.key: result for row, result in zip(rows, results, strict=True)}
        return rows

    def open_row(self, key: str) -> None:
        result = self._results.get(key)
        if result is not None:
            self.dashboard.show_result(result)

    def action_delete_result(self) -> None:
        key = self.selected_key
        if key is not None:
            self.dashboard.delete_result(int(key))


def result_row(result: job_result_pb2.JobResult) -> Row:
    """Build the row of a result; the live results screen shows the same columns."""
    data = result.data
    duration_ms = max(0, data.end_time - data.start_time)
    output_size = len(data.output.items)
    retried = f"{data.retried}/{data.max_retry}" if data.max_retry else str(data.retried)
    return Row(
        key=str(result.id.value),
        cells=(
            str(result.id.value),
            str(data.job_id.value),
            data.worker_name,
            result_status_text(data.status),
            retried,
            format_time_ms(data.start_time),
            format_duration_ms(duration_ms),
            format_bytes(output_size) if data.HasField("output") else "streamed",
        ),
        sort_values=(
            result.id.value,
            data.job_id.value,
            data.worker_name,
            data.status,
            data.retried,
            data.start_time,
            duration_ms,
            output_size,
        ),
    )
