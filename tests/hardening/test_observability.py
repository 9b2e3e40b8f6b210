"""Prometheus metrics scraped over HTTP, and OpenTelemetry spans sent to a loopback collector.

The collector is a real gRPC server on loopback that implements the OTLP
TraceService and MetricsService Export calls and keeps what it receives.
What a real OpenTelemetry Collector does with the data is not verified.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from jwp.proto.jobworkerp.data import common_pb2, runner_pb2, worker_pb2
from jwp.proto.jobworkerp.runner import command_args_pb2
from jwp.proto.jobworkerp.service import job_pb2 as job_service_pb2
from jwp.server.app import JwpServer
from tests.conftest import Stubs
from tests.support.jobs import run_job
from tests.support.servers import make_settings, running_server
from tests.support.waiting import eventually

COMMAND = 1


def command_args(command: str, *args: str) -> bytes:
    return command_args_pb2.CommandArgs(command=command, args=list(args)).SerializeToString()


async def scrape(server: JwpServer) -> str:
    assert server.extras is not None and server.extras.metrics is not None
    url = f"http://127.0.0.1:{server.extras.metrics.port}/metrics"
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def sample(text: str, name: str, **labels: str) -> float | None:
    """Return the value of the series `name{labels}` in a scrape, or None when absent."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        series, _, value = line.rpartition(" ")
        if series.split("{", 1)[0] != name:
            continue
        if all(f'{key}="{label}"' in series for key, label in labels.items()):
            return float(value)
    return None


async def test_metrics_after_jobs(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        jwp_metrics_addr="127.0.0.1:0",
        worker_channels=["slow"],
        worker_channel_concurrencies=[1],
    )
    async with running_server(settings) as server:
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
        stubs = Stubs.over(channel)
        ok = await run_job(stubs, COMMAND, b"", command_args("true"))
        policy = common_pb2.RetryPolicy(type=common_pb2.CONSTANT, interval=10, max_retry=1, basis=2)
        failed = await run_job(
            stubs, COMMAND, b"", command_args("/nonexistent/command"), retry_policy=policy
        )
        await _fill_slow_channel(stubs, tmp_path)
        text = await eventually(
            lambda: _scrape_when(server, "jwp_queue_depth", channel="slow", value=2.0),
            message="two jobs queued in channel slow",
        )
        await channel.close()

    assert ok.status == common_pb2.SUCCESS
    assert failed.status == common_pb2.MAX_RETRY
    assert sample(text, "jwp_job_results_total", status="SUCCESS") == 1.0
    assert sample(text, "jwp_job_results_total", status="ERROR_AND_RETRY") == 1.0
    assert sample(text, "jwp_job_results_total", status="MAX_RETRY") == 1.0
    assert sample(text, "jwp_job_retries_total", channel="__default_job_channel__") == 1.0
    assert sample(text, "jwp_job_duration_seconds_count", status="SUCCESS") == 1.0
    assert sample(text, "jwp_running_jobs", channel="slow") == 1.0
    assert sample(text, "jwp_queue_depth", channel="__default_job_channel__") == 0.0


async def _fill_slow_channel(stubs: Stubs, tmp_path: Path) -> None:
    """Start one long job in channel `slow` (concurrency 1) and queue two more behind it."""
    await stubs.workers.Create(
        worker_pb2.WorkerData(
            name="slow", runner_id=runner_pb2.RunnerId(value=COMMAND), channel="slow"
        )
    )
    marker = tmp_path / "slow-started"
    first = command_args("sh", "-c", f"touch {marker}; sleep 30")
    await stubs.jobs.Enqueue(job_service_pb2.JobRequest(worker_name="slow", args=first))
    await eventually(lambda: asyncio.to_thread(marker.exists), message="slow job started")
    for _ in range(2):
        await stubs.jobs.Enqueue(
            job_service_pb2.JobRequest(worker_name="slow", args=command_args("true"))
        )


async def _scrape_when(server: JwpServer, name: str, value: float, **labels: str) -> str | None:
    text = await scrape(server)
    return text if sample(text, name, **labels) == value else None


async def test_metrics_unknown_path_404(tmp_path: Path) -> None:
    async with running_server(make_settings(tmp_path, jwp_metrics_addr="127.0.0.1:0")) as server:
        assert server.extras is not None and server.extras.metrics is not None
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{server.extras.metrics.port}/other")

    assert response.status_code == 404


def test_metrics_off_by_default(tmp_path: Path) -> None:
    assert make_settings(tmp_path).jwp_metrics_addr is None


class Collector(
    trace_service_pb2_grpc.TraceServiceServicer, metrics_service_pb2_grpc.MetricsServiceServicer
):
    """An OTLP/gRPC receiver on loopback that keeps every export request."""

    def __init__(self) -> None:
        self.spans: list[Any] = []
        self.metric_names: set[str] = set()
        self._lock = threading.Lock()

    def Export(self, request: Any, context: grpc.ServicerContext) -> Any:
        with self._lock:
            if isinstance(request, trace_service_pb2.ExportTraceServiceRequest):
                for resource_spans in request.resource_spans:
                    for scope_spans in resource_spans.scope_spans:
                        self.spans.extend(scope_spans.spans)
                return trace_service_pb2.ExportTraceServiceResponse()
            for resource_metrics in request.resource_metrics:
                for scope_metrics in resource_metrics.scope_metrics:
                    self.metric_names.update(metric.name for metric in scope_metrics.metrics)
            return metrics_service_pb2.ExportMetricsServiceResponse()


@pytest.fixture
def collector() -> Iterator[tuple[Collector, int]]:
    receiver = Collector()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(receiver, server)
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(receiver, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield receiver, port
    finally:
        server.stop(None)


def attributes(span: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for attribute in span.attributes:
        value = attribute.value
        values[attribute.key] = getattr(value, value.WhichOneof("value"))
    return values


async def test_spans_reach_collector(tmp_path: Path, collector: tuple[Collector, int]) -> None:
    receiver, port = collector
    settings = make_settings(tmp_path, otlp_addr=f"http://127.0.0.1:{port}")
    async with running_server(settings) as server:
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
        result = await run_job(Stubs.over(channel), COMMAND, b"", command_args("true"))
        await channel.close()
    # Stopping the server flushed its spans and metrics.

    names = [span.name for span in receiver.spans]
    job_spans = [span for span in receiver.spans if span.name == "job run"]
    assert any(name.endswith("JobService/Enqueue") for name in names), names
    assert len(job_spans) == 1
    job = attributes(job_spans[0])
    assert job["jwp.job.id"] == result.job_id.value
    assert job["jwp.worker.name"] == result.worker_name
    assert job["jwp.channel"] == "__default_job_channel__"
    assert job["jwp.job.status"] == "SUCCESS"
    assert {"jwp.job.duration", "jwp.job.results"} <= receiver.metric_names
