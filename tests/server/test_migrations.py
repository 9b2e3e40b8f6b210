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
from jwp.errors import StorageUnavailableError
from jwp.server.storage import open_storage
from jwp.server.storage.migrate import head_revision
from jwp.server.storage.tables import metadata, runner
from tests.support.backends import (
    MYSQL_URL,
    create_database,
    drop_database,
    require_services,
    unique_name,
)


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


async def test_missing_mysql_database_is_storage_unavailable() -> None:
    require_services()
    name = unique_name()
    settings = Settings(_env_file=None, mysql_url=f"{MYSQL_URL.rstrip('/')}/{name}")  # type: ignore[call-arg]

    with pytest.raises(StorageUnavailableError) as raised:
        await open_storage(settings)

    message = str(raised.value)
    assert f"cannot open the MySQL/MariaDB database '{name}' on 127.0.0.1:3306" in message
    assert f"error 1049: Unknown database '{name}'" in message
    assert "check MYSQL_URL" in message


async def test_mysql_open_error_hides_password() -> None:
    require_services()
    password = "not-the-password-" + unique_name()
    url = MYSQL_URL.replace("mysql://root@", f"mysql://root:{password}@")
    settings = Settings(_env_file=None, mysql_url=f"{url.rstrip('/')}/{unique_name()}")  # type: ignore[call-arg]

    with pytest.raises(StorageUnavailableError) as raised:
        await open_storage(settings)

    message = str(raised.value)
    assert "as user 'root': error 1045: Access denied" in message
    assert password not in message


async def test_unopenable_sqlite_file_is_storage_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "missing-folder" / "jobs.sqlite3"
    settings = Settings(_env_file=None, sqlite_url=f"sqlite://{path}")  # type: ignore[call-arg]

    with pytest.raises(StorageUnavailableError) as raised:
        await open_storage(settings)

    message = str(raised.value)
    assert f"cannot open the SQLite database {path}: unable to open database file" in message
    assert "check SQLITE_URL" in message


async def test_failed_upgrade_is_storage_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "odd.sqlite3"
    settings = Settings(_env_file=None, sqlite_url=f"sqlite://{path}")  # type: ignore[call-arg]
    engine = raw_engine(settings)
    try:
        async with engine.begin() as connection:
            # A table of Alembic's name without its column fails the revision lookup.
            await connection.execute(text("CREATE TABLE alembic_version (other INTEGER)"))
    finally:
        await engine.dispose()

    with pytest.raises(StorageUnavailableError) as raised:
        await open_storage(settings)

    message = str(raised.value)
    assert f"cannot create or upgrade the jwp tables in the SQLite database {path}" in message
    assert "version_num" in message
