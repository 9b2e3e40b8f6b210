"""Job rows: scheduled, periodic, FORCED_RDB and WITH_BACKUP jobs kept in the RDB.

Plain NORMAL jobs never get a row; they live only in the queue.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from jwp.errors import AlreadyExistsError
from jwp.proto.jobworkerp.data import job_pb2, job_result_pb2, worker_pb2

from .engine import db_errors
from .job_results import result_row_of
from .tables import job as job_table
from .tables import job_result as result_table
from .tables import worker as worker_table


@dataclass(frozen=True)
class JobCounts:
    """Unclaimed RDB jobs by schedule at one moment, for the dashboard."""

    due: int
    """Jobs whose run_after_time has come (WITH_BACKUP copies, with 0, excluded)."""
    scheduled: int
    """Jobs whose run_after_time is in the future."""
    periodic: int
    """Jobs of periodic workers, claimed or not."""


class JobRepository:
    """Stores jobs and lets dispatchers claim them exactly once through a grab lease."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def insert(self, job: job_pb2.Job) -> None:
        """Insert a new job; a taken uniq_key raises AlreadyExistsError naming the key."""
        try:
            async with db_errors(f"store job {job.id.value}"), self._engine.begin() as connection:
                await connection.execute(insert(job_table).values(**_row_of(job)))
        except AlreadyExistsError as error:
            if not job.data.HasField("uniq_key"):
                raise
            raise AlreadyExistsError(
                f"a pending job with uniq_key {job.data.uniq_key!r} already exists; wait for it "
                "to finish, delete it, or use another key"
            ) from error

    async def upsert(self, job: job_pb2.Job) -> None:
        """Insert a job or replace the row with its id (retries and periodic runs keep ids)."""
        row = _row_of(job)
        async with db_errors(f"store job {job.id.value}"), self._engine.begin() as connection:
            result = await connection.execute(
                update(job_table).where(job_table.c.id == job.id.value).values(**row)
            )
            if result.rowcount == 0:
                await connection.execute(insert(job_table).values(**row))

    async def delete(self, job_id: int) -> bool:
        """Delete a job row; return False when there was none."""
        async with db_errors(f"delete job {job_id}"), self._engine.begin() as connection:
            result = await connection.execute(delete(job_table).where(job_table.c.id == job_id))
            return result.rowcount > 0

    async def find(self, job_id: int) -> job_pb2.Job | None:
        async with db_errors(f"find job {job_id}"), self._engine.connect() as connection:
            row = (
                await connection.execute(select(job_table).where(job_table.c.id == job_id))
            ).first()
        return job_of(row._mapping) if row is not None else None

    async def find_list(self, *, limit: int | None = None, offset: int = 0) -> list[job_pb2.Job]:
        """List jobs, newest id first."""
        query = select(job_table).order_by(job_table.c.id.desc())
        if limit is not None:
            query = query.limit(limit)
        if offset:
            query = query.offset(offset)
        async with db_errors("list jobs"), self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [job_of(row._mapping) for row in rows]

    async def find_ids(self) -> list[int]:
        """Return the id of every stored job."""
        async with db_errors("list job ids"), self._engine.connect() as connection:
            return [int(row[0]) for row in (await connection.execute(select(job_table.c.id))).all()]

    async def count(self) -> int:
        async with db_errors("count jobs"), self._engine.connect() as connection:
            total = await connection.scalar(select(func.count()).select_from(job_table))
        return int(total or 0)

    async def count_by_schedule(self, now_ms: int) -> JobCounts:
        """Count due, future and periodic jobs in one query."""
        unclaimed = job_table.c.grabbed_until_time <= now_ms
        due = and_(job_table.c.run_after_time > 0, job_table.c.run_after_time <= now_ms, unclaimed)
        scheduled = and_(job_table.c.run_after_time > now_ms, unclaimed)
        periodic = worker_table.c.periodic_interval > 0
        # COUNT skips the NULL that a CASE without ELSE yields when its condition is false.
        query = select(
            func.count(case((due, 1))),
            func.count(case((scheduled, 1))),
            func.count(case((periodic, 1))),
        ).select_from(job_table.outerjoin(worker_table, worker_table.c.id == job_table.c.worker_id))
        async with db_errors("count jobs by schedule"), self._engine.connect() as connection:
            row = (await connection.execute(query)).one()
        return JobCounts(due=int(row[0]), scheduled=int(row[1]), periodic=int(row[2]))

    async def find_due(
        self, *, channel: str, due_before_ms: int, now_ms: int, limit: int
    ) -> list[job_pb2.Job]:
        """List unclaimed jobs of a channel's workers due before `due_before_ms`.

        Jobs already due come first, highest priority first and then oldest
        first; jobs due later (prefetched so they start on time) follow in
        time order. Rows with `run_after_time = 0` are WITH_BACKUP copies of
        queued jobs and are left to restore.
        """
        if limit <= 0:
            return []
        overdue_first = case((job_table.c.run_after_time <= now_ms, 0), else_=1)
        query = (
            select(job_table)
            .join(worker_table, worker_table.c.id == job_table.c.worker_id)
            .where(
                worker_table.c.channel == channel,
                job_table.c.run_after_time > 0,
                job_table.c.run_after_time <= due_before_ms,
                job_table.c.grabbed_until_time <= now_ms,
            )
            .order_by(
                overdue_first,
                case((job_table.c.run_after_time <= now_ms, -job_table.c.priority), else_=0),
                job_table.c.run_after_time,
                job_table.c.priority.desc(),
                job_table.c.id,
            )
            .limit(limit)
        )
        action = f"find due jobs of channel {channel!r}"
        async with db_errors(action), self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [job_of(row._mapping) for row in rows]

    async def grab(self, job_id: int, *, expected_until_ms: int, new_until_ms: int) -> bool:
        """Claim a job by moving its grab lease from the value read to a new one.

        The conditional update succeeds for exactly one of several dispatchers
        that read the same row, so a job is claimed once.
        """
        async with db_errors(f"claim job {job_id}"), self._engine.begin() as connection:
            result = await connection.execute(
                update(job_table)
                .where(
                    job_table.c.id == job_id,
                    job_table.c.grabbed_until_time == expected_until_ms,
                )
                .values(grabbed_until_time=new_until_ms)
            )
            return result.rowcount > 0

    async def extend_grab(self, job_id: int, *, current_until_ms: int, new_until_ms: int) -> bool:
        """Renew a grab lease this process holds; False means it was lost."""
        return await self.grab(
            job_id, expected_until_ms=current_until_ms, new_until_ms=new_until_ms
        )

    async def finish_run(
        self,
        job_id: int,
        *,
        lease_until_ms: int,
        result: job_result_pb2.JobResult | None,
        next_job: job_pb2.Job | None,
    ) -> bool:
        """End a claimed run in one transaction, fenced by the grab lease it ran under.

        The row is deleted, or replaced by `next_job` (a retry or the next
        periodic run, with the same id), and `result` is stored. When the
        row no longer carries `lease_until_ms` (deleted, or claimed by
        another process after the lease ran out) nothing is written and
        False is returned, so a run that lost its lease records no result.
        """
        owned = and_(job_table.c.id == job_id, job_table.c.grabbed_until_time == lease_until_ms)
        async with db_errors(f"finish job {job_id}"), self._engine.begin() as connection:
            if next_job is not None:
                values = _row_of(next_job)
                values["grabbed_until_time"] = 0
                changed = await connection.execute(update(job_table).where(owned).values(**values))
            else:
                changed = await connection.execute(delete(job_table).where(owned))
            if changed.rowcount == 0:
                return False
            if result is not None:
                await connection.execute(insert(result_table).values(**result_row_of(result)))
        return True

    async def release_all_grabs(self) -> int:
        """Clear every grab lease; Standalone start-up only, where no other process holds one."""
        async with db_errors("release job claims"), self._engine.begin() as connection:
            result = await connection.execute(
                update(job_table)
                .where(job_table.c.grabbed_until_time > 0)
                .values(grabbed_until_time=0)
            )
            return int(result.rowcount)

    async def release_grab(self, job_id: int, *, current_until_ms: int) -> None:
        """Drop the grab lease so the job can be claimed again (put-back).

        Only the lease `current_until_ms` is dropped: a put-back retried after
        the lease ran out must not release the claim of a process that took
        the job over since.
        """
        async with db_errors(f"release job {job_id}"), self._engine.begin() as connection:
            await connection.execute(
                update(job_table)
                .where(job_table.c.id == job_id)
                .where(job_table.c.grabbed_until_time == current_until_ms)
                .values(grabbed_until_time=0)
            )

    async def find_restorable(
        self,
        *,
        worker_ids: Sequence[int] | None,
        now_ms: int,
        include_grabbed: bool,
        limit: int,
        after_id: int = 0,
    ) -> list[job_pb2.Job]:
        """List queue-backup rows (`run_after_time = 0`) in id order, for restore."""
        conditions = [job_table.c.run_after_time == 0, job_table.c.id > after_id]
        if not include_grabbed:
            conditions.append(
                or_(job_table.c.grabbed_until_time == 0, job_table.c.grabbed_until_time < now_ms)
            )
        if worker_ids is not None:
            conditions.append(job_table.c.worker_id.in_(list(worker_ids)))
        query = select(job_table).where(and_(*conditions)).order_by(job_table.c.id).limit(limit)
        async with db_errors("find jobs to restore"), self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [job_of(row._mapping) for row in rows]


def _row_of(job: job_pb2.Job) -> dict[str, Any]:
    data = job.data
    return {
        "id": job.id.value,
        "worker_id": data.worker_id.value,
        "args": data.args,
        "uniq_key": data.uniq_key if data.HasField("uniq_key") else None,
        "enqueue_time": data.enqueue_time,
        "grabbed_until_time": data.grabbed_until_time if data.HasField("grabbed_until_time") else 0,
        "run_after_time": data.run_after_time,
        "retried": data.retried,
        "priority": data.priority,
        "timeout": data.timeout,
        "request_streaming": data.request_streaming,
        "metadata": json.dumps(dict(job.metadata), sort_keys=True),
    }


def job_of(row: Any) -> job_pb2.Job:
    """Build a Job message from a `job` table row mapping."""
    data = job_pb2.JobData(
        worker_id=worker_pb2.WorkerId(value=row["worker_id"]),
        args=bytes(row["args"]),
        enqueue_time=row["enqueue_time"],
        run_after_time=row["run_after_time"],
        retried=row["retried"],
        priority=row["priority"],
        timeout=row["timeout"],
        request_streaming=bool(row["request_streaming"]),
    )
    if row["uniq_key"] is not None:
        data.uniq_key = row["uniq_key"]
    if row["grabbed_until_time"]:
        data.grabbed_until_time = row["grabbed_until_time"]
    metadata = json.loads(row["metadata"] or "{}")
    return job_pb2.Job(id=job_pb2.JobId(value=row["id"]), data=data, metadata=metadata)
