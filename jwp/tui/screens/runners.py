"""Runners: the built-in runners and the plugins and MCP servers the server loaded."""

from __future__ import annotations

from ..formatting import output_type_name, runner_type_name
from ..widgets.resource_table import Column, Row
from .resource_screen import ResourceScreen


class RunnersScreen(ResourceScreen):
    TITLE_TEXT = "Runners"
    COLUMNS = (
        Column("id", "id"),
        Column("name", "name"),
        Column("type", "type"),
        Column("output", "output"),
        Column("schemas", "schemas"),
        Column("description", "description"),
    )
    SORT_COLUMN = "id"

    async def fetch_rows(self) -> list[Row]:
        runners = await self.dashboard.client.list_runners()
        self.dashboard.schemas.remember(runners)
        rows = []
        for runner in runners:
            data = runner.data
            schemas = [
                label
                for label, text in (
                    ("settings", data.runner_settings_proto),
                    ("args", data.job_args_proto),
                    ("result", data.result_output_proto),
                )
                if text.strip()
            ]
            rows.append(
                Row(
                    key=str(runner.id.value),
                    cells=(
                        str(runner.id.value),
                        data.name,
                        runner_type_name(data.runner_type),
                        output_type_name(data.output_type),
                        ", ".join(schemas) or "raw bytes",
                        data.description.splitlines()[0] if data.description else "",
                    ),
                    sort_values=(
                        runner.id.value,
                        data.name,
                        runner_type_name(data.runner_type),
                        data.output_type,
                        len(schemas),
                        data.description,
                    ),
                )
            )
        return rows

    def open_row(self, key: str) -> None:
        self.dashboard.show_runner(int(key))
