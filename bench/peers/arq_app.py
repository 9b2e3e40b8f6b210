"""arq worker settings: the Redis database of BENCH_REDIS_URL, a queue under BENCH_NAMESPACE."""

from __future__ import annotations

import os
from typing import Any, ClassVar

from arq.connections import RedisSettings

REDIS_URL = os.environ["BENCH_REDIS_URL"]
NAMESPACE = os.environ["BENCH_NAMESPACE"]
QUEUE = f"{NAMESPACE}-arq"


# The arq command logs two INFO lines per job by default; WARNING matches the
# log level the other peers and jwp run with.
LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"arq.standard": {"level": "WARNING", "class": "logging.StreamHandler"}},
    "loggers": {"arq": {"handlers": ["arq.standard"], "level": "WARNING"}},
}


async def noop(ctx: dict[str, Any]) -> int:
    return 0


class WorkerSettings:
    functions: ClassVar = [noop]
    redis_settings = RedisSettings.from_dsn(REDIS_URL)
    queue_name = QUEUE
    max_jobs = 64
    keep_result = 3600
    health_check_interval = 3600
