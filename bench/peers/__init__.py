"""The peer job queues, each with a no-op task and its Redis broker and result store.

The app modules read BENCH_REDIS_URL (with the database number) and
BENCH_NAMESPACE (a prefix of every key and queue name) at import, because
their worker commands import them by name.
"""
