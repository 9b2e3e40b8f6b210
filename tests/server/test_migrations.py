"""Schema migrations: a fresh database, and one made by create_all before migrations existed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from jwp.config import Settings
from jwp.server.storage import open_storage
from jwp.server.storage.migrate import head_revision
from jwp.server.storage.tables import metadata, runner
from tests.support.backends import create_database, drop_database, require_services, unique_name


@pytest.fixture(params=["sqlite", "mariadb"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Settings]:
    """Settings naming an empty database of each kind."""
    if request.param == "sqlite":
        yield Settings(_env_file=None, sqlite_url=f"sqlite://{tmp_path / 'm.sqlite3'}")  # type: ignore[call-arg]
        return
    require_services()
    name = unique_name()
    url = await create_database(name)
    try:
        yield Settings(_env_file=None, mysql_url=url)  # type: ignore[call-arg]
    finally:
        await drop_database(name)


def raw_engine(settings: Settings) -> AsyncEngine:
    if settings.uses_mysql():
        return create_async_engine(settings.sqlalchemy_mysql_url())
    return create_async_engine(settings.sqlalchemy_sqlite_url())


def schema_differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection)
    return list(compare_metadata(context, metadata))


async def test_fresh_database_matches_tables(database: Settings) -> None:
    storage = await open_storage(database)
    await storage.close()

    engine = raw_engine(database)
    try:
        async with engine.connect() as connection:
            revision = await connection.scalar(text("SELECT version_num FROM alembic_version"))
            differences = await connection.run_sync(schema_differences)
    finally:
        await engine.dispose()
    assert revision == head_revision()
    assert differences == []


async def test_create_all_database_is_stamped_and_kept(database: Settings) -> None:
    engine = raw_engine(database)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
            await connection.execute(
                insert(runner).values(id=42, name="OLD", description="d", definition="x", type=9)
            )
    finally:
        await engine.dispose()

    storage = await open_storage(database)
    try:
        rows = await storage.runners.find_all()
    finally:
        await storage.close()

    assert [row.name for row in rows] == ["OLD"]
    engine = raw_engine(database)
    try:
        async with engine.connect() as connection:
            revision = await connection.scalar(text("SELECT version_num FROM alembic_version"))
            count = await connection.scalar(select(runner.c.id).where(runner.c.id == 42))
    finally:
        await engine.dispose()
    assert revision == head_revision()
    assert count == 42


async def test_open_twice_keeps_revision(database: Settings) -> None:
    for _ in range(2):
        storage = await open_storage(database)
        await storage.close()
    engine = raw_engine(database)
    try:
        async with engine.connect() as connection:
            versions = (
                await connection.execute(text("SELECT version_num FROM alembic_version"))
            ).all()
    finally:
        await engine.dispose()
    assert [row[0] for row in versions] == [head_revision()]
