"""Job result rows, written when a worker's store_success / store_failure asks for them."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from jwp.proto.jobworkerp.data import common_pb2, job_pb2, job_result_pb2, worker_pb2

from .engine import db_errors
from .tables import job_result as result_table

# Results of one job are listed newest first and capped, because a periodic
# job keeps one id across all its runs.
MAX_RESULTS_PER_JOB = 1000


class JobResultRepository:
    """Stores and reads job results."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def insert(self, result: job_result_pb2.JobResult) -> None:
        action = f"store result of job {result.data.job_id.value}"
        async with db_errors(action), self._engine.begin() as connection:
            await connection.execute(insert(result_table).values(**result_row_of(result)))

    async def delete(self, result_id: int) -> bool:
        async with db_errors(f"delete job result {result_id}"), self._engine.begin() as connection:
            outcome = await connection.execute(
                delete(result_table).where(result_table.c.id == result_id)
            )
            return outcome.rowcount > 0

    async def find(self, result_id: int) -> job_result_pb2.JobResult | None:
        async with db_errors(f"find job result {result_id}"), self._engine.connect() as connection:
            row = (
                await connection.execute(select(result_table).where(result_table.c.id == result_id))
            ).first()
        return result_of(row._mapping) if row is not None else None

    async def find_list(
        self, *, limit: int | None = None, offset: int = 0
    ) -> list[job_result_pb2.JobResult]:
        """List results, newest job first."""
        query = select(result_table).order_by(
            result_table.c.job_id.desc(), result_table.c.id.desc()
        )
        if limit is not None:
            query = query.limit(limit)
        if offset:
            query = query.offset(offset)
        async with db_errors("list job results"), self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [result_of(row._mapping) for row in rows]

    async def find_list_by_job_id(self, job_id: int) -> list[job_result_pb2.JobResult]:
        """List the results of one job, the latest end time first."""
        query = (
            select(result_table)
            .where(result_table.c.job_id == job_id)
            .order_by(result_table.c.end_time.desc(), result_table.c.id.desc())
            .limit(MAX_RESULTS_PER_JOB)
        )
        async with db_errors(f"list results of job {job_id}"), self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [result_of(row._mapping) for row in rows]

    async def find_latest_by_job_id(self, job_id: int) -> job_result_pb2.JobResult | None:
        query = (
            select(result_table)
            .where(result_table.c.job_id == job_id)
            .order_by(result_table.c.end_time.desc(), result_table.c.id.desc())
            .limit(1)
        )
        async with db_errors(f"find result of job {job_id}"), self._engine.connect() as connection:
            row = (await connection.execute(query)).first()
        return result_of(row._mapping) if row is not None else None

    async def count(self) -> int:
        async with db_errors("count job results"), self._engine.connect() as connection:
            total = await connection.scalar(select(func.count()).select_from(result_table))
        return int(total or 0)


def result_row_of(result: job_result_pb2.JobResult) -> dict[str, Any]:
    """Build the `job_result` table row of a JobResult message."""
    data = result.data
    return {
        "id": result.id.value,
        "job_id": data.job_id.value,
        "worker_id": data.worker_id.value,
        "worker_name": data.worker_name,
        "max_retry": data.max_retry,
        "response_type": data.response_type,
        "store_success": data.store_success,
        "store_failure": data.store_failure,
        "args": data.args,
        "uniq_key": data.uniq_key if data.HasField("uniq_key") else None,
        "status": data.status,
        "output": data.output.items if data.HasField("output") else b"",
        "retried": data.retried,
        "priority": data.priority,
        "enqueue_time": data.enqueue_time,
        "run_after_time": data.run_after_time,
        "start_time": data.start_time,
        "end_time": data.end_time,
        "timeout": data.timeout,
        "request_streaming": data.request_streaming,
        "metadata": json.dumps(dict(result.metadata), sort_keys=True),
    }


def result_of(row: Any) -> job_result_pb2.JobResult:
    """Build a JobResult message from a `job_result` table row mapping."""
    data = job_result_pb2.JobResultData(
        job_id=job_pb2.JobId(value=row["job_id"]),
        worker_id=worker_pb2.WorkerId(value=row["worker_id"]),
        worker_name=row["worker_name"],
        args=bytes(row["args"]),
        status=row["status"],
        output=common_pb2.ResultOutput(items=bytes(row["output"])),
        retried=row["retried"],
        max_retry=row["max_retry"],
        priority=row["priority"],
        timeout=row["timeout"],
        request_streaming=bool(row["request_streaming"]),
        enqueue_time=row["enqueue_time"],
        run_after_time=row["run_after_time"],
        start_time=row["start_time"],
        end_time=row["end_time"],
        response_type=row["response_type"],
        store_success=bool(row["store_success"]),
        store_failure=bool(row["store_failure"]),
    )
    if row["uniq_key"] is not None:
        data.uniq_key = row["uniq_key"]
    return job_result_pb2.JobResult(
        id=job_result_pb2.JobResultId(value=row["id"]),
        data=data,
        metadata=json.loads(row["metadata"] or "{}"),
    )
