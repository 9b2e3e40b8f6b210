"""Redis connections of one process, the reachability state and error translation.

redis-py is an optional dependency (the `scalable` extra), imported only
when Scalable mode starts. Connections come from a blocking pool of
REDIS_POOL_SIZE; one more connection per process carries pub/sub.
"""

from __future__ import annotations

import contextlib
import logging
import urllib.parse
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from jwp.config import Settings
from jwp.errors import QueueUnavailableError

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger(__name__)

# Reads on a Redis connection fail after this long, in s, so a server that
# vanished without closing the connection is noticed. It must exceed the
# longest blocking command jwp sends (a BLPOP of about 1 s).
SOCKET_TIMEOUT_S = 15.0

# Reconnection backoff bounds, in s.
BACKOFF_MIN_S = 0.1
BACKOFF_MAX_S = 5.0


def import_redis() -> Any:
    """Import redis.asyncio, or explain which extra installs it."""
    try:
        import redis.asyncio
    except ImportError as error:
        raise QueueUnavailableError(
            "STORAGE_TYPE=Scalable needs the redis package; install jwp with the `scalable` "
            "extra: pip install 'jwp[scalable]'"
        ) from error
    return redis.asyncio


def create_client(settings: Settings) -> Redis:
    """Create a client over a blocking connection pool sized by the REDIS_POOL_* settings."""
    redis_asyncio = import_redis()
    kwargs: dict[str, Any] = {
        "max_connections": settings.redis_pool_size,
        "timeout": settings.redis_pool_wait_timeout_msec / 1000,
        "socket_connect_timeout": settings.redis_pool_create_timeout_msec / 1000,
        "socket_timeout": SOCKET_TIMEOUT_S,
        "health_check_interval": settings.redis_pool_recycle_timeout_msec / 1000,
    }
    if settings.redis_username:
        kwargs["username"] = settings.redis_username
    if settings.redis_password:
        kwargs["password"] = settings.redis_password
    pool = redis_asyncio.BlockingConnectionPool.from_url(settings.redis_url, **kwargs)
    client: Redis = redis_asyncio.Redis(connection_pool=pool)
    return client


def safe_url(url: str) -> str:
    """Return a Redis URL without its password, for logs and messages."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urllib.parse.urlunsplit(parts._replace(netloc=user + host))


class RedisHealth:
    """Whether Redis answered the last call; logs once when it goes away and once when back."""

    def __init__(self, url: str) -> None:
        self.url = safe_url(url)
        self.available = True
        self._failures = 0

    def failed(self, error: BaseException) -> None:
        self._failures += 1
        if self.available:
            self.available = False
            logger.warning(
                "Redis at %s is unreachable (%s); retrying with backoff until it is back",
                self.url,
                error,
            )

    def succeeded(self) -> None:
        if not self.available:
            logger.info("Redis at %s is reachable again", self.url)
        self.available = True
        self._failures = 0

    def backoff_s(self) -> float:
        """Return the wait before the next attempt: doubling from 0.1 s up to 5 s."""
        exponent = min(max(self._failures - 1, 0), 10)
        return float(min(BACKOFF_MAX_S, BACKOFF_MIN_S * 2**exponent))

    @contextlib.asynccontextmanager
    async def guard(self, action: str) -> AsyncIterator[None]:
        """Run a Redis call; turn its connection errors into QueueUnavailableError.

        `action` names what was being done, e.g. "push job 123", for the message.
        """
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import RedisError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        try:
            yield
        except (RedisConnectionError, RedisTimeoutError, OSError) as error:
            self.failed(error)
            raise QueueUnavailableError(
                f"cannot {action}: Redis at {self.url} is unreachable ({error}); "
                "retry once it is back"
            ) from error
        except RedisError as error:
            logger.warning("Redis error during %s: %s", action, error)
            raise QueueUnavailableError(f"cannot {action}: Redis failed ({error})") from error
        self.succeeded()


def as_bytes(value: object) -> bytes:
    """Return a Redis reply item as bytes; redis-py types replies as `bytes | str`."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    raise TypeError(f"unexpected Redis reply item of type {type(value).__name__}")


def as_text(value: object) -> str:
    """Return a Redis reply item as text."""
    return as_bytes(value).decode()
