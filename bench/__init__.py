"""Benchmarks of jwp against the Python job queues; run `python -m bench run`."""
