"""Removal of the Redis keys one benchmark run created, and no others."""

from __future__ import annotations


async def delete_keys(redis_url: str, db: int, pattern_text: str) -> int:
    """Delete the keys of Redis database `db` that contain `pattern_text`; return how many."""
    import redis.asyncio as redis

    client = redis.Redis.from_url(redis_url, db=db)
    deleted = 0
    try:
        batch: list[bytes] = []
        async for key in client.scan_iter(match=f"*{pattern_text}*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                deleted += await client.delete(*batch)
                batch.clear()
        if batch:
            deleted += await client.delete(*batch)
    finally:
        await client.aclose()
    return deleted


async def server_version(redis_url: str) -> str:
    import redis.asyncio as redis

    client = redis.Redis.from_url(redis_url)
    try:
        info = await client.info("server")
        return str(info.get("redis_version", "unknown"))
    finally:
        await client.aclose()
