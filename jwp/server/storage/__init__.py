"""The relational store: workers, runners, jobs kept in the RDB, and job results.

One SQLAlchemy Core implementation serves SQLite and MySQL/MariaDB; the
engine is chosen from settings at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from jwp.config import Settings

from .engine import create_mysql_engine, create_sqlite_engine
from .job_results import JobResultRepository
from .jobs import JobRepository
from .migrate import upgrade_schema
from .runners import RunnerRepository, RunnerRow
from .workers import WorkerRepository

__all__ = [
    "JobRepository",
    "JobResultRepository",
    "RunnerRepository",
    "RunnerRow",
    "Storage",
    "WorkerRepository",
    "open_storage",
]


@dataclass
class Storage:
    """The repositories over one database engine."""

    engine: AsyncEngine
    workers: WorkerRepository
    runners: RunnerRepository
    jobs: JobRepository
    job_results: JobResultRepository

    @classmethod
    def over(cls, engine: AsyncEngine) -> Storage:
        return cls(
            engine=engine,
            workers=WorkerRepository(engine),
            runners=RunnerRepository(engine),
            jobs=JobRepository(engine),
            job_results=JobResultRepository(engine),
        )

    def describe(self) -> str:
        """Name the database for the start-up log line, without credentials."""
        url = self.engine.url
        return f"{url.get_backend_name()}:{url.database}"

    async def close(self) -> None:
        await self.engine.dispose()


async def open_storage(settings: Settings) -> Storage:
    """Connect to the database the settings name and upgrade its schema to the newest revision.

    MYSQL_URL or MYSQL_HOST selects MySQL/MariaDB; otherwise SQLite.
    """
    if settings.uses_mysql():
        engine = create_mysql_engine(
            settings.sqlalchemy_mysql_url(),
            settings.mysql_max_connections,
            timeout_s=settings.jwp_mysql_timeout_ms / 1000,
        )
    else:
        engine = create_sqlite_engine(
            settings.sqlalchemy_sqlite_url(), settings.sqlite_max_connections
        )
    try:
        await upgrade_schema(engine)
    except BaseException:
        await engine.dispose()
        raise
    return Storage.over(engine)
