"""The optional parts of a server: OpenTelemetry, Prometheus metrics and gRPC-Web.

Each is off unless its setting is set (OTLP_ADDR, JWP_METRICS_ADDR,
USE_GRPC_WEB), and each imports its packages only then, so a server without
them needs none of the `otel`, `metrics` and `web` extras.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import grpc

from jwp.config import Settings
from jwp.server.dispatch.dispatcher import Dispatcher
from jwp.server.dispatch.recorder import JobRecorder
from jwp.server.queue import JobQueue

if TYPE_CHECKING:
    from jwp.server.grpc_web import GrpcWebServer
    from jwp.server.prometheus import PrometheusMetrics
    from jwp.server.telemetry import Telemetry

logger = logging.getLogger(__name__)


class ServerExtras:
    """Starts and stops the optional parts that the settings turn on."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.telemetry: Telemetry | None = None
        self.metrics: PrometheusMetrics | None = None
        self.web: GrpcWebServer | None = None
        if settings.otlp_addr:
            from jwp.server.telemetry import Telemetry

            self.telemetry = Telemetry(settings.otlp_addr, settings.log_app_name)

    def interceptors(self) -> list[grpc.aio.ServerInterceptor[Any, Any]]:
        """Return the server interceptors of the optional parts (the RPC spans)."""
        return [self.telemetry.server_interceptor()] if self.telemetry else []

    def observe(self, recorder: JobRecorder, dispatcher: Dispatcher, queue: JobQueue) -> None:
        """Create the metric series and connect them and the job spans to the recorder."""
        if self.telemetry is not None:
            recorder.add_observer(self.telemetry.observer())
        if self._settings.jwp_metrics_addr:
            from jwp.server.prometheus import PrometheusMetrics

            channels = list(self._settings.channel_concurrencies())

            async def channel_gauges() -> dict[str, tuple[int, int]]:
                return {
                    channel: (await queue.queued_count(channel), dispatcher.running_in(channel))
                    for channel in channels
                }

            self.metrics = PrometheusMetrics(self._settings.jwp_metrics_addr, channel_gauges)
            recorder.add_observer(self.metrics.observer())

    async def start(self, register_services: Callable[[Any], None]) -> None:
        """Start the metrics endpoint and the gRPC-Web server, if they are turned on."""
        if self.metrics is not None:
            await self.metrics.start()
        if self._settings.use_grpc_web:
            from jwp.server.grpc_web import GrpcWebServer

            self.web = GrpcWebServer(self._settings, register_services)
            await self.web.start()

    async def stop_serving(self) -> None:
        """Stop the gRPC-Web server, together with the gRPC server."""
        if self.web is not None:
            await self.web.close()
            self.web = None

    async def close(self) -> None:
        """Stop the metrics endpoint and flush telemetry; call after the last job was recorded."""
        if self.metrics is not None:
            await self.metrics.close()
        if self.telemetry is not None:
            await self.telemetry.close()
