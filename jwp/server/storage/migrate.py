"""Schema migrations at start-up, with Alembic, for SQLite and MySQL/MariaDB.

`upgrade_schema` brings a database to the newest revision. A database made
by jwp 0.1 (tables created without Alembic) is stamped with the first
revision, whose tables are the same, and then upgraded. On MySQL several
processes may start at once, so the upgrade runs under a named lock. A
database that cannot be opened or upgraded raises StorageUnavailableError
with a message that names the database and the setting to check.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from jwp.errors import StorageUnavailableError

from .engine import driver_detail

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

FIRST_REVISION = "0001"
"""The revision whose tables jwp 0.1 created with `metadata.create_all`."""

# Name and wait of the MySQL lock that serializes start-up upgrades of
# several processes, in s. A first migration takes well under a second.
MYSQL_LOCK_NAME = "jwp_schema_migration"
MYSQL_LOCK_WAIT_S = 120


def alembic_config(connection: Connection) -> Config:
    """Return an Alembic config that runs the packaged migrations on `connection`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """Return the newest revision of the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


async def upgrade_schema(engine: AsyncEngine) -> None:
    """Create or upgrade the tables to the newest revision.

    Raises:
        StorageUnavailableError: the database cannot be opened (wrong URL,
            password, missing database or folder) or the upgrade fails.
    """
    try:
        connection = await engine.connect()
    except DBAPIError as error:
        raise StorageUnavailableError(
            f"cannot open {_describe_database(engine.url)}: {driver_detail(error.orig)}; "
            f"{_settings_fix(engine.url)}"
        ) from error
    try:
        await _run_upgrade(connection)
    except DBAPIError as error:
        raise StorageUnavailableError(
            f"cannot create or upgrade the jwp tables in {_describe_database(engine.url)}: "
            f"{driver_detail(error.orig)}; check that the database user may create and "
            "alter tables"
        ) from error
    finally:
        await connection.close()


async def _run_upgrade(connection: AsyncConnection) -> None:
    # NOTE: only MySQL/MariaDB upgrades run under a lock. SQLite processes
    # that start together on a fresh file may race; start one first.
    if connection.dialect.name in ("mysql", "mariadb"):
        await _run_locked_mysql(connection)
    else:
        await connection.run_sync(_upgrade)
    await connection.commit()


def _describe_database(url: URL) -> str:
    """Name a database for an error message, without the password a URL may hold."""
    if url.get_backend_name() == "sqlite":
        return f"the SQLite database {url.database or ':memory:'}"
    location = f"{url.host or 'localhost'}:{url.port or 3306}"
    return f"the MySQL/MariaDB database {url.database!r} on {location} as user {url.username!r}"


def _settings_fix(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        return "check SQLITE_URL, whose folder must exist and be writable"
    return (
        "check MYSQL_URL or the MYSQL_* settings and that the server is running, "
        "and create the database if it is missing"
    )


async def _run_locked_mysql(connection: AsyncConnection) -> None:
    got = await connection.scalar(
        text("SELECT GET_LOCK(:name, :wait)"), {"name": MYSQL_LOCK_NAME, "wait": MYSQL_LOCK_WAIT_S}
    )
    if got != 1:
        raise TimeoutError(
            f"waited {MYSQL_LOCK_WAIT_S} s for the schema migration lock {MYSQL_LOCK_NAME!r} "
            "held by another jwp process; check for a stuck process and start again"
        )
    try:
        await connection.commit()
        await connection.run_sync(_upgrade)
    finally:
        await connection.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": MYSQL_LOCK_NAME})


def _upgrade(connection: Connection) -> None:
    current = MigrationContext.configure(connection).get_current_revision()
    config = alembic_config(connection)
    if current is None and inspect(connection).has_table("job"):
        logger.info(
            "database has jwp tables without a schema revision; stamping %s", FIRST_REVISION
        )
        command.stamp(config, FIRST_REVISION)
        current = FIRST_REVISION
    head = head_revision()
    if current == head:
        return
    logger.info("upgrading the database schema from %s to %s", current or "empty", head)
    command.upgrade(config, "head")
