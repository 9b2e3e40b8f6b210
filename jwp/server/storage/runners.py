"""Runner rows: the built-in runners and those added at run time (MCP servers, plugins)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from .engine import db_errors
from .tables import runner as runner_table


@dataclass(frozen=True)
class RunnerRow:
    """One stored runner: its id, name, type and how to build it (`definition`)."""

    id: int
    name: str
    description: str
    definition: str
    runner_type: int


class RunnerRepository:
    """Stores runner rows; what each runner does lives in the runner registry."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def insert(self, row: RunnerRow) -> None:
        """Insert a runner; a taken name or id raises AlreadyExistsError."""
        async with db_errors(f"create runner {row.name!r}"), self._engine.begin() as connection:
            await connection.execute(insert(runner_table).values(**_values_of(row)))

    async def insert_missing(self, rows: list[RunnerRow]) -> None:
        """Insert the rows whose id and name are both free; keep existing ones unchanged.

        Several processes may start at once on one database (Scalable mode),
        so a row another process inserted meanwhile is ignored, not an error.
        """
        async with db_errors("store built-in runners"), self._engine.begin() as connection:
            existing = (
                await connection.execute(select(runner_table.c.id, runner_table.c.name))
            ).all()
            taken_ids = {row.id for row in existing}
            taken_names = {row.name for row in existing}
            for row in rows:
                if row.id in taken_ids or row.name in taken_names:
                    continue
                statement = (
                    insert(runner_table)
                    .values(**_values_of(row))
                    .prefix_with("OR IGNORE", dialect="sqlite")
                    .prefix_with("IGNORE", dialect="mysql")
                    .prefix_with("IGNORE", dialect="mariadb")
                )
                await connection.execute(statement)

    async def update(self, row: RunnerRow) -> None:
        """Replace the name, description and definition of the runner with `row.id`."""
        values = _values_of(row)
        del values["id"]
        async with db_errors(f"update runner {row.name!r}"), self._engine.begin() as connection:
            await connection.execute(
                update(runner_table).where(runner_table.c.id == row.id).values(**values)
            )

    async def find(self, runner_id: int) -> RunnerRow | None:
        async with db_errors(f"find runner {runner_id}"), self._engine.connect() as connection:
            row = (
                await connection.execute(select(runner_table).where(runner_table.c.id == runner_id))
            ).first()
        return None if row is None else _row_of(row)

    async def find_by_name(self, name: str) -> RunnerRow | None:
        async with db_errors(f"find runner {name!r}"), self._engine.connect() as connection:
            row = (
                await connection.execute(select(runner_table).where(runner_table.c.name == name))
            ).first()
        return None if row is None else _row_of(row)

    async def delete(self, runner_id: int) -> bool:
        async with db_errors(f"delete runner {runner_id}"), self._engine.begin() as connection:
            result = await connection.execute(
                delete(runner_table).where(runner_table.c.id == runner_id)
            )
            return result.rowcount > 0

    async def find_all(self) -> list[RunnerRow]:
        """List every runner row, highest id first (run-time runners, then built-ins)."""
        async with db_errors("list runners"), self._engine.connect() as connection:
            rows = (
                await connection.execute(select(runner_table).order_by(runner_table.c.id.desc()))
            ).all()
        return [
            RunnerRow(
                id=row.id,
                name=row.name,
                description=row.description,
                definition=row.definition,
                runner_type=row.type,
            )
            for row in rows
        ]

    async def count(self) -> int:
        async with db_errors("count runners"), self._engine.connect() as connection:
            total = await connection.scalar(select(func.count()).select_from(runner_table))
        return int(total or 0)


def _row_of(row: Any) -> RunnerRow:
    return RunnerRow(
        id=row.id,
        name=row.name,
        description=row.description,
        definition=row.definition,
        runner_type=row.type,
    )


def _values_of(row: RunnerRow) -> dict[str, object]:
    return {
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "definition": row.definition,
        "type": row.runner_type,
    }
