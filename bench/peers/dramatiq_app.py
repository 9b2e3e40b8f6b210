"""Dramatiq app: a Redis broker and a Redis result backend."""

from __future__ import annotations

import os

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.results import Results
from dramatiq.results.backends.redis import RedisBackend

REDIS_URL = os.environ["BENCH_REDIS_URL"]
NAMESPACE = os.environ["BENCH_NAMESPACE"]

broker = RedisBroker(url=REDIS_URL, namespace=f"{NAMESPACE}-dramatiq")
# Result keys are hashes without the namespace, so the client deletes them itself.
result_backend = RedisBackend(url=REDIS_URL, namespace=f"{NAMESPACE}-dramatiq-results")
broker.add_middleware(Results(backend=result_backend))
dramatiq.set_broker(broker)


@dramatiq.actor(store_results=True, queue_name=f"{NAMESPACE}-dramatiq")
def noop() -> int:
    return 0
