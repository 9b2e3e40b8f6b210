"""Fixtures of the hardening suite."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from tests.support.servers import ThreadedServer, make_settings, threaded_server

FUZZ_MAX_ARGS_BYTES = 64 * 1024
"""JWP_MAX_ARGS_BYTES of the fuzzed server, so large args hit the limit."""


@pytest.fixture(scope="module")
def admission_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    """A Standalone server that takes requests but runs no job.

    Its dispatcher and RDB poller are stopped right after start-up, so jobs
    that fuzzed requests manage to enqueue only wait; none of them runs.
    """
    settings = make_settings(
        tmp_path_factory.mktemp("fuzz"),
        jwp_max_args_bytes=FUZZ_MAX_ARGS_BYTES,
        jwp_max_queued_jobs_per_channel=10_000,
    )
    with threaded_server(settings) as running:
        components = running.server.components
        assert components is not None
        running.call(components.poller.stop())
        running.call(components.dispatcher.stop_fetching())
        yield running


@pytest.fixture(scope="module")
def fuzz_channel(admission_server: ThreadedServer) -> Iterator[grpc.Channel]:
    channel = grpc.insecure_channel(
        admission_server.address,
        options=[("grpc.max_send_message_length", 64 * 1024 * 1024)],
    )
    try:
        yield channel
    finally:
        channel.close()
