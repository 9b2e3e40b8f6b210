"""Prometheus metrics endpoint (JWP_METRICS_ADDR; needs the `metrics` extra).

Counters and the duration histogram are fed by `PrometheusObserver`, the
recorder's job observer. Queue depth and running jobs are gauges read at
scrape time from the queue and the dispatcher, so they are never stale.
Each server has its own registry, so several servers in one process (as in
tests) do not share series.

Series:

| name | type | labels |
| --- | --- | --- |
| jwp_queue_depth | gauge | channel |
| jwp_running_jobs | gauge | channel |
| jwp_job_duration_seconds | histogram | worker, channel, status |
| jwp_job_results_total | counter | status |
| jwp_job_retries_total | counter | worker, channel |
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from jwp.proto.jobworkerp.data import common_pb2
from jwp.server.addresses import split_listen_address
from jwp.server.dispatch.observer import JobObserver
from jwp.server.dispatch.outcome import ResultStatus
from jwp.server.dispatch.run import JobRun

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

logger = logging.getLogger(__name__)

# Job durations range from milliseconds (a quick command) to hours.
DURATION_BUCKETS_S = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400)

# A scrape request larger than this is not a Prometheus scrape.
MAX_REQUEST_HEAD_BYTES = 16 * 1024
REQUEST_READ_TIMEOUT_S = 10.0

ChannelGauges = Callable[[], Awaitable[dict[str, tuple[int, int]]]]
"""Returns (queued, running) job counts of each channel, read when scraped."""


def _import_prometheus_client() -> Any:
    try:
        import prometheus_client
    except ImportError:
        raise ImportError(
            "JWP_METRICS_ADDR needs the prometheus-client package; install the `metrics` "
            "extra: pip install 'jwp[metrics]'"
        ) from None
    return prometheus_client


class PrometheusMetrics:
    """The metric series of one server and the HTTP endpoint that serves them."""

    def __init__(self, address: str, channel_gauges: ChannelGauges) -> None:
        client = _import_prometheus_client()
        self._client = client
        self._address = address
        self._channel_gauges = channel_gauges
        self.registry: CollectorRegistry = client.CollectorRegistry()

        self.queue_depth = client.Gauge(
            "jwp_queue_depth",
            "Jobs waiting in a channel's queue.",
            ["channel"],
            registry=self.registry,
        )
        self.running = client.Gauge(
            "jwp_running_jobs",
            "Jobs running in a channel in this process.",
            ["channel"],
            registry=self.registry,
        )
        self.durations = client.Histogram(
            "jwp_job_duration_seconds",
            "Time a runner took for one run, by worker, channel and result status.",
            ["worker", "channel", "status"],
            buckets=DURATION_BUCKETS_S,
            registry=self.registry,
        )
        self.results = client.Counter(
            "jwp_job_results",
            "Recorded runs by result status.",
            ["status"],
            registry=self.registry,
        )
        self.retries = client.Counter(
            "jwp_job_retries",
            "Failed runs that were scheduled to run again.",
            ["worker", "channel"],
            registry=self.registry,
        )

        self.port: int | None = None
        self._server: asyncio.Server | None = None

    def observer(self) -> JobObserver:
        return PrometheusObserver(self)

    async def start(self) -> None:
        host, port = split_listen_address(self._address, "JWP_METRICS_ADDR")
        self._server = await asyncio.start_server(self._serve, host, port)
        self.port = self._server.sockets[0].getsockname()[1]
        logger.info("Prometheus metrics on http://%s (port %d)/metrics", self._address, self.port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def render(self) -> bytes:
        """Refresh the gauges from the queue and the dispatcher, and return the text format."""
        for channel, (queued, running) in (await self._channel_gauges()).items():
            self.queue_depth.labels(channel=channel).set(queued)
            self.running.labels(channel=channel).set(running)
        rendered: bytes = self._client.generate_latest(self.registry)
        return rendered

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(REQUEST_READ_TIMEOUT_S):
                head = await reader.readuntil(b"\r\n\r\n")
            if len(head) > MAX_REQUEST_HEAD_BYTES:
                await _respond(writer, 431, b"request header too large\n")
                return
            method, _, rest = head.decode("latin-1").partition(" ")
            path = rest.split(" ", 1)[0].split("?", 1)[0]
            if method != "GET" or path not in ("/metrics", "/"):
                await _respond(writer, 404, b"metrics are served at GET /metrics\n")
                return
            body = await self.render()
            await _respond(writer, 200, body, self._client.CONTENT_TYPE_LATEST)
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except ConnectionError:
            pass
        except Exception:
            logger.exception("serving a metrics scrape failed")
            with contextlib.suppress(ConnectionError):
                await _respond(writer, 500, b"metrics could not be collected\n")
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


async def _respond(
    writer: asyncio.StreamWriter,
    status: int,
    body: bytes,
    content_type: str = "text/plain; charset=utf-8",
) -> None:
    reasons = {200: "OK", 404: "Not Found", 431: "Request Header Fields Too Large", 500: "Error"}
    head = (
        f"HTTP/1.1 {status} {reasons[status]}\r\n"
        f"Content-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    writer.write(head.encode("latin-1") + body)
    await writer.drain()


class PrometheusObserver(JobObserver):
    """Counts recorded runs into the series of a PrometheusMetrics."""

    def __init__(self, metrics: PrometheusMetrics) -> None:
        self._metrics = metrics

    def job_finished(self, run: JobRun, status: ResultStatus, duration_ms: int) -> None:
        # NOTE: worker names are labels, so workers created per run (such as
        # temporary workflow workers with random names) add series without bound.
        status_name = common_pb2.ResultStatus.Name(status)
        worker = run.worker.data.name
        self._metrics.durations.labels(
            worker=worker, channel=run.channel, status=status_name
        ).observe(duration_ms / 1000)
        self._metrics.results.labels(status=status_name).inc()
        if status == common_pb2.ERROR_AND_RETRY:
            self._metrics.retries.labels(worker=worker, channel=run.channel).inc()
