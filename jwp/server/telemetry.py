"""OpenTelemetry traces and metrics sent to OTLP_ADDR (needs the `otel` extra).

Every RPC gets a server span from the gRPC instrumentation's interceptor,
and every recorded run a `job run` span with the job id, worker, channel,
attempt and result status. The same runs feed two OTLP metrics:
`jwp.job.duration` (histogram, s) and `jwp.job.results` (counter).

The providers belong to the server rather than to the process-wide globals,
so several servers in one process keep their telemetry apart, and stopping
a server flushes what it buffered.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import grpc

from jwp.proto.jobworkerp.data import common_pb2
from jwp.server.dispatch.observer import JobObserver
from jwp.server.dispatch.outcome import ResultStatus
from jwp.server.dispatch.run import JobRun

logger = logging.getLogger(__name__)

SERVICE_NAME = "jwp"

# Batches go out at least this often, in ms, so spans of a quiet server
# still reach the collector soon after their job.
SPAN_EXPORT_DELAY_MS = 2000
METRIC_EXPORT_INTERVAL_MS = 15_000


class Telemetry:
    """Tracer and meter providers that export to one OTLP/gRPC endpoint."""

    def __init__(self, endpoint: str, app_name: str = SERVICE_NAME) -> None:
        try:
            from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
                OTLPMetricExporter,
            )
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.metrics import MeterProvider
            from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor
        except ImportError:
            raise ImportError(
                "OTLP_ADDR needs the OpenTelemetry packages; install the `otel` extra: "
                "pip install 'jwp[otel]'"
            ) from None

        self.endpoint = endpoint
        resource = Resource.create({"service.name": app_name})
        self.tracer_provider = TracerProvider(resource=resource)
        self.tracer_provider.add_span_processor(
            BatchSpanProcessor(
                OTLPSpanExporter(endpoint=endpoint), schedule_delay_millis=SPAN_EXPORT_DELAY_MS
            )
        )
        reader = PeriodicExportingMetricReader(
            OTLPMetricExporter(endpoint=endpoint), export_interval_millis=METRIC_EXPORT_INTERVAL_MS
        )
        self.meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
        logger.info("OpenTelemetry traces and metrics go to %s", endpoint)

    def server_interceptor(self) -> grpc.aio.ServerInterceptor[Any, Any]:
        """Return the interceptor that opens a server span for each RPC."""
        from opentelemetry.instrumentation.grpc import aio_server_interceptor

        interceptor: grpc.aio.ServerInterceptor[Any, Any] = aio_server_interceptor(  # type: ignore[no-untyped-call]
            tracer_provider=self.tracer_provider
        )
        return interceptor

    def observer(self) -> JobObserver:
        return TelemetryObserver(self)

    def force_flush(self, timeout_ms: int = 10_000) -> None:
        """Export buffered spans and metrics now (blocks; call from a thread)."""
        self.tracer_provider.force_flush(timeout_ms)
        self.meter_provider.force_flush(timeout_ms)

    async def close(self) -> None:
        """Flush and stop the exporters; the flush blocks, so it runs in a thread."""
        await asyncio.to_thread(self.tracer_provider.shutdown)
        await asyncio.to_thread(self.meter_provider.shutdown)


class TelemetryObserver(JobObserver):
    """Records a span and the job metrics for each recorded run."""

    def __init__(self, telemetry: Telemetry) -> None:
        from opentelemetry.trace import SpanKind, Status, StatusCode

        self._span_kind = SpanKind.INTERNAL
        self._status = Status
        self._status_code = StatusCode
        self._tracer = telemetry.tracer_provider.get_tracer("jwp.dispatch")
        meter = telemetry.meter_provider.get_meter("jwp.dispatch")
        self._durations = meter.create_histogram(
            "jwp.job.duration", unit="s", description="Time a runner took for one run."
        )
        self._results = meter.create_counter(
            "jwp.job.results", description="Recorded runs by result status."
        )

    def job_finished(self, run: JobRun, status: ResultStatus, duration_ms: int) -> None:
        status_name = common_pb2.ResultStatus.Name(status)
        attributes: dict[str, str | int] = {
            "jwp.job.id": run.job_id,
            "jwp.worker.id": run.worker.id.value,
            "jwp.worker.name": run.worker.data.name,
            "jwp.channel": run.channel,
            "jwp.job.attempt": run.job.data.retried + 1,
            "jwp.job.status": status_name,
        }
        # The span is written when the outcome is known; its start is set
        # back by the run's duration so it covers the runner's time.
        end_ns = time.time_ns()
        span = self._tracer.start_span(
            "job run",
            kind=self._span_kind,
            attributes=attributes,
            start_time=end_ns - duration_ms * 1_000_000,
        )
        if status != common_pb2.SUCCESS:
            span.set_status(self._status(self._status_code.ERROR, status_name))
        span.end(end_time=end_ns)

        metric_attributes = {
            "worker": run.worker.data.name,
            "channel": run.channel,
            "status": status_name,
        }
        self._durations.record(duration_ms / 1000, metric_attributes)
        self._results.add(1, {"status": status_name})
