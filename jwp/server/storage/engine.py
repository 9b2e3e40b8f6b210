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

logger = logging.getLogger(__name__)

# How long SQLite waits for another connection's write lock before failing,
# in ms. Writes are short, so a few seconds covers bursts without hiding a
# database that is locked for good.
SQLITE_BUSY_TIMEOUT_MS = 5000


# A pooled MySQL connection idle longer than this is replaced, in s, so that
# the server's wait_timeout (8 h by default) never closes one under a query.
MYSQL_POOL_RECYCLE_S = 3600


def create_mysql_engine(url: str, pool_size: int, *, timeout_s: float = 10.0) -> AsyncEngine:
    """Create an engine on MySQL/MariaDB through asyncmy (the `mysql` extra).

    `timeout_s` bounds opening a connection and each read of a reply, so a
    server that stops answering (a hung host, a paused VM) fails the
    statement instead of hanging it; asyncmy has no read timeout by default.
    jwp's statements touch a few rows each, so their replies start within
    milliseconds on a healthy server.

    READ COMMITTED makes every statement see the rows committed before it,
    so a poller's SELECT of due jobs is never an old snapshot. Claims stay
    exact under any isolation level: each grab is a conditional UPDATE in its
    own transaction, and InnoDB evaluates an UPDATE's WHERE on the latest
    committed row, locking it.
    """
    try:
        import asyncmy  # noqa: F401
    except ImportError as error:
        raise StorageUnavailableError(
            "MySQL/MariaDB support needs the asyncmy package; install jwp with the `mysql` "
            "(or `scalable`) extra: pip install 'jwp[mysql]'"
        ) from error
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_pre_ping=True,
        pool_recycle=MYSQL_POOL_RECYCLE_S,
        isolation_level="READ COMMITTED",
        connect_args={"connect_timeout": timeout_s, "read_timeout": timeout_s},
    )


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
        if _is_connection_error(error):
            raise StorageUnavailableError(
                f"cannot {action}: the database is unreachable ({driver_detail(error.orig)}); "
                "retry once it is back"
            ) from error
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


# MySQL client error codes of a connection that could not be opened or was
# lost: CR_CONNECTION_ERROR, CR_CONN_HOST_ERROR, CR_SERVER_GONE_ERROR,
# CR_SERVER_LOST.
MYSQL_CONNECTION_ERROR_CODES = frozenset({2002, 2003, 2006, 2013})


def _is_connection_error(error: DBAPIError) -> bool:
    """Return whether a database error means the server could not be reached."""
    if error.connection_invalidated:
        return True
    args: tuple[object, ...] = getattr(error.orig, "args", ())
    return bool(args) and args[0] in MYSQL_CONNECTION_ERROR_CODES


def driver_detail(error: BaseException | None) -> str:
    """Return a driver error as `error CODE: text` when it carries a MySQL error code."""
    args: tuple[object, ...] = getattr(error, "args", ())
    if len(args) == 2 and isinstance(args[0], int):
        return f"error {args[0]}: {str(args[1]).splitlines()[0] if args[1] else 'no detail'}"
    return _first_line(error)


def _first_line(error: BaseException | None) -> str:
    return str(error).splitlines()[0] if error is not None and str(error) else "no detail"
