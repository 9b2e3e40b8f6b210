"""Schema migrations at start-up, with Alembic, for SQLite and MySQL/MariaDB.

`upgrade_schema` brings a database to the newest revision. A database made
by jwp 0.1 (tables created without Alembic) is stamped with the first
revision, whose tables are the same, and then upgraded. On MySQL several
processes may start at once, so the upgrade runs under a named lock.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

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
    """Create or upgrade the tables to the newest revision."""
    async with engine.connect() as connection:
        # NOTE: only MySQL/MariaDB upgrades run under a lock. SQLite processes
        # that start together on a fresh file may race; start one first.
        if connection.dialect.name in ("mysql", "mariadb"):
            await _run_locked_mysql(connection)
        else:
            await connection.run_sync(_upgrade)
        await connection.commit()


async def _run_locked_mysql(connection: object) -> None:
    from sqlalchemy.ext.asyncio import AsyncConnection

    assert isinstance(connection, AsyncConnection)
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
