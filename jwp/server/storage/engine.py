"""Database engines for the relational store and the translation of their errors."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from jwp.errors import AlreadyExistsError, StorageUnavailableError

from .tables import metadata

logger = logging.getLogger(__name__)

# How long SQLite waits for another connection's write lock before failing,
# in ms. Writes are short, so a few seconds covers bursts without hiding a
# database that is locked for good.
SQLITE_BUSY_TIMEOUT_MS = 5000


def create_sqlite_engine(url: str, pool_size: int) -> AsyncEngine:
    """Create an engine on a SQLite file (or `:memory:`) in WAL mode."""
    in_memory = ":memory:" in url
    kwargs: dict[str, Any] = {}
    if in_memory:
        # Each connection to ":memory:" would open its own empty database;
        # one shared connection keeps a single one.
        kwargs["poolclass"] = StaticPool
    else:
        kwargs["pool_size"] = pool_size
        kwargs["max_overflow"] = 0
    engine = create_async_engine(url, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    return engine


async def create_schema(engine: AsyncEngine) -> None:
    """Create the tables that do not exist yet."""
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)


@contextlib.asynccontextmanager
async def db_errors(action: str) -> AsyncIterator[None]:
    """Translate database exceptions raised inside the block into jwp errors.

    `action` names what was being done, e.g. "create worker 'resize'", so the
    message says which request failed.
    """
    try:
        yield
    except IntegrityError as error:
        raise AlreadyExistsError(
            f"cannot {action}: a unique value is already taken ({_first_line(error.orig)})"
        ) from error
    except DBAPIError as error:
        logger.warning("database error during %s: %s", action, _first_line(error.orig))
        if "database is locked" in _first_line(error.orig):
            raise StorageUnavailableError(
                f"cannot {action}: the database is locked by another connection or process "
                f"(waited {SQLITE_BUSY_TIMEOUT_MS} ms); retry once it is released"
            ) from error
        raise StorageUnavailableError(
            f"cannot {action}: the database failed ({_first_line(error.orig)}); "
            "check that it is reachable and retry"
        ) from error
    except OSError as error:
        logger.warning("database connection error during %s: %s", action, error)
        raise StorageUnavailableError(
            f"cannot {action}: the database is unreachable ({error}); retry later"
        ) from error


def _first_line(error: BaseException | None) -> str:
    return str(error).splitlines()[0] if error is not None and str(error) else "no detail"
