"""Worker rows: a named, configured use of a runner."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from jwp.config import DEFAULT_CHANNEL
from jwp.errors import AlreadyExistsError
from jwp.proto.jobworkerp.data import common_pb2, runner_pb2, worker_pb2

from .engine import db_errors
from .tables import job as job_table
from .tables import worker as worker_table


class WorkerRepository:
    """Stores workers; ids are database auto-increment integers, as in jobworkerp."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(self, data: worker_pb2.WorkerData) -> int:
        """Insert a worker and return its id; a taken name raises AlreadyExistsError."""
        with _name_taken(data.name):
            async with (
                db_errors(f"create worker {data.name!r}"),
                self._engine.begin() as connection,
            ):
                result = await connection.execute(insert(worker_table).values(**_row_of(data)))
                key = result.inserted_primary_key
                assert key is not None
                return int(key[0])

    async def update(self, worker_id: int, data: worker_pb2.WorkerData) -> bool:
        """Replace a worker's data; return False when no worker has that id."""
        with _name_taken(data.name):
            async with db_errors(f"update worker {worker_id}"), self._engine.begin() as connection:
                result = await connection.execute(
                    update(worker_table)
                    .where(worker_table.c.id == worker_id)
                    .values(**_row_of(data))
                )
                return result.rowcount > 0

    async def delete(self, worker_id: int) -> tuple[bool, int]:
        """Delete a worker and its stored jobs; return (worker existed, jobs deleted).

        A stored job of a deleted worker could never run again, so it goes
        in the same transaction as the worker row.
        """
        async with db_errors(f"delete worker {worker_id}"), self._engine.begin() as connection:
            result = await connection.execute(
                delete(worker_table).where(worker_table.c.id == worker_id)
            )
            if result.rowcount == 0:
                return False, 0
            jobs = await connection.execute(
                delete(job_table).where(job_table.c.worker_id == worker_id)
            )
            return True, int(jobs.rowcount)

    async def find(self, worker_id: int) -> worker_pb2.Worker | None:
        async with db_errors(f"find worker {worker_id}"), self._engine.connect() as connection:
            row = (
                await connection.execute(select(worker_table).where(worker_table.c.id == worker_id))
            ).first()
        return _worker_of(row._mapping) if row is not None else None

    async def find_by_name(self, name: str) -> worker_pb2.Worker | None:
        async with db_errors(f"find worker {name!r}"), self._engine.connect() as connection:
            row = (
                await connection.execute(select(worker_table).where(worker_table.c.name == name))
            ).first()
        return _worker_of(row._mapping) if row is not None else None

    async def find_list(
        self,
        *,
        runner_ids: Sequence[int] = (),
        channel: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[worker_pb2.Worker]:
        """List workers, newest first, optionally of some runners or of one channel."""
        query = select(worker_table).order_by(worker_table.c.id.desc())
        if runner_ids:
            query = query.where(worker_table.c.runner_id.in_(list(runner_ids)))
        if channel is not None:
            query = query.where(worker_table.c.channel == (channel or DEFAULT_CHANNEL))
        if limit is not None:
            query = query.limit(limit).offset(offset)
        elif offset:
            query = query.offset(offset)
        async with db_errors("list workers"), self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [_worker_of(row._mapping) for row in rows]

    async def find_channels(self) -> list[str]:
        """List the distinct channels workers name, the default one as stored."""
        query = select(worker_table.c.channel).distinct().order_by(worker_table.c.channel)
        async with db_errors("list worker channels"), self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [row[0] or DEFAULT_CHANNEL for row in rows]

    async def count(self) -> int:
        async with db_errors("count workers"), self._engine.connect() as connection:
            total = await connection.scalar(select(func.count()).select_from(worker_table))
        return int(total or 0)


@contextlib.contextmanager
def _name_taken(name: str) -> Iterator[None]:
    """Reword a unique-constraint failure as the taken worker name, the only unique column."""
    try:
        yield
    except AlreadyExistsError as error:
        raise AlreadyExistsError(
            f"a worker named {name!r} already exists; choose another name, or change that "
            "worker with `jwp worker update`"
        ) from error


def _row_of(data: worker_pb2.WorkerData) -> dict[str, Any]:
    policy = data.retry_policy if data.HasField("retry_policy") else None
    return {
        "name": data.name,
        "description": data.description,
        "runner_id": data.runner_id.value,
        "runner_settings": data.runner_settings,
        "retry_type": policy.type if policy else common_pb2.RetryType.NONE,
        "interval": policy.interval if policy else 0,
        "max_interval": policy.max_interval if policy else 0,
        "max_retry": policy.max_retry if policy else 0,
        "basis": policy.basis if policy else 2.0,
        "periodic_interval": data.periodic_interval,
        "channel": data.channel if data.HasField("channel") and data.channel else DEFAULT_CHANNEL,
        "queue_type": data.queue_type,
        "response_type": data.response_type,
        "store_success": data.store_success,
        "store_failure": data.store_failure,
        "use_static": data.use_static,
        "broadcast_results": data.broadcast_results,
        "next_workers": ",".join(str(worker_id.value) for worker_id in data.next_workers),
    }


def _worker_of(row: Any) -> worker_pb2.Worker:
    data = worker_pb2.WorkerData(
        name=row["name"],
        description=row["description"],
        runner_id=runner_pb2.RunnerId(value=row["runner_id"]),
        runner_settings=bytes(row["runner_settings"]),
        retry_policy=common_pb2.RetryPolicy(
            type=row["retry_type"],
            interval=row["interval"],
            max_interval=row["max_interval"],
            max_retry=row["max_retry"],
            basis=row["basis"],
        ),
        periodic_interval=row["periodic_interval"],
        queue_type=row["queue_type"],
        response_type=row["response_type"],
        store_success=bool(row["store_success"]),
        store_failure=bool(row["store_failure"]),
        use_static=bool(row["use_static"]),
        broadcast_results=bool(row["broadcast_results"]),
        next_workers=[
            worker_pb2.WorkerId(value=int(text))
            for text in (row["next_workers"] or "").split(",")
            if text
        ],
    )
    if row["channel"] and row["channel"] != DEFAULT_CHANNEL:
        data.channel = row["channel"]
    return worker_pb2.Worker(id=worker_pb2.WorkerId(value=row["id"]), data=data)
