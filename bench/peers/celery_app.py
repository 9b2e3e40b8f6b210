"""Celery app: Redis as broker and result backend, every key under BENCH_NAMESPACE."""

from __future__ import annotations

import os

from celery import Celery

REDIS_URL = os.environ["BENCH_REDIS_URL"]
NAMESPACE = os.environ["BENCH_NAMESPACE"]
QUEUE = f"{NAMESPACE}-celery"

app = Celery("bench", broker=REDIS_URL, backend=REDIS_URL)
app.conf.update(
    task_default_queue=QUEUE,
    broker_transport_options={"global_keyprefix": f"{NAMESPACE}-celery-"},
    result_backend_transport_options={"global_keyprefix": f"{NAMESPACE}-celery-"},
    result_expires=3600,
    worker_hijack_root_logger=False,
)


@app.task(name="bench.noop")
def noop() -> int:
    return 0
