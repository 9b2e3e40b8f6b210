"""Builds a jwp server from settings and runs its lifecycle.

`JwpServer.start` opens storage, registers the runners, wires the queue,
dispatcher, RDB poller and application layer together, and serves the
gRPC API. `JwpServer.stop` shuts down in the order that loses nothing:
stop taking jobs, let running jobs finish within the grace period, put back
the rest, keep still-queued jobs in the RDB (Standalone; in Scalable mode
they stay in Redis), stop the gRPC server, close.

The role decides what runs. `all` serves the API and dispatches jobs;
`front` serves the API only; `worker` dispatches only, and its gRPC server
carries just the health and reflection services, so orchestrators can
probe it on GRPC_ADDR.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from jwp.config import Role, Settings, StorageType
from jwp.errors import FailedPreconditionError
from jwp.proto.jobworkerp.data import common_pb2
from jwp.proto.jobworkerp.service import (
    job_pb2,
    job_pb2_grpc,
    job_result_pb2,
    job_result_pb2_grpc,
    runner_pb2,
    runner_pb2_grpc,
    worker_pb2,
    worker_pb2_grpc,
)
from jwp.proto.jwp.service import (
    dashboard_pb2,
    dashboard_pb2_grpc,
    job_batch_pb2,
    job_batch_pb2_grpc,
)
from jwp.redact import redact_url
from jwp.server.backend import QueueBackend, open_backend
from jwp.server.dispatch.dispatcher import Dispatcher
from jwp.server.dispatch.executor import JobExecutor
from jwp.server.dispatch.poller import RdbPoller
from jwp.server.dispatch.pools import RunnerInstances
from jwp.server.dispatch.recorder import JobRecorder
from jwp.server.extras import ServerExtras
from jwp.server.grpc import transport
from jwp.server.grpc.dashboard_service import DashboardService
from jwp.server.grpc.job_batch_service import JobBatchService
from jwp.server.grpc.job_result_service import JobResultService
from jwp.server.grpc.job_service import JobRestoreService, JobService, JobStatusService
from jwp.server.grpc.runner_service import RunnerService
from jwp.server.grpc.worker_service import WorkerService
from jwp.server.jobs import JobManager
from jwp.server.metrics import ResultMetrics
from jwp.server.queue import JobQueue, ResultBus
from jwp.server.queue.memory import MemoryJobQueue
from jwp.server.restore import JobRestorer
from jwp.server.results import ResultManager
from jwp.server.routing import JobRouter, now_ms
from jwp.server.runners import process
from jwp.server.runners.external import ExternalRunners
from jwp.server.runners.host import RunnerHost
from jwp.server.runners.registry import RunnerRegistry, builtin_specs
from jwp.server.storage import Storage, open_storage
from jwp.server.workers import WorkerManager

logger = logging.getLogger(__name__)

# How long the gRPC server lets open calls (DIRECT waits, listeners) end on
# their own after the jobs were drained, in s.
GRPC_STOP_GRACE_S = 2.0

# How many unrestored backup jobs the start-up check counts before it stops.
UNRESTORED_REPORT_LIMIT = 1000

SERVICE_NAMES = (
    runner_pb2.DESCRIPTOR.services_by_name["RunnerService"].full_name,
    worker_pb2.DESCRIPTOR.services_by_name["WorkerService"].full_name,
    job_pb2.DESCRIPTOR.services_by_name["JobService"].full_name,
    job_pb2.DESCRIPTOR.services_by_name["JobStatusService"].full_name,
    job_pb2.DESCRIPTOR.services_by_name["JobRestoreService"].full_name,
    job_result_pb2.DESCRIPTOR.services_by_name["JobResultService"].full_name,
    dashboard_pb2.DESCRIPTOR.services_by_name["DashboardService"].full_name,
    job_batch_pb2.DESCRIPTOR.services_by_name["JobBatchService"].full_name,
)


@dataclass
class Components:
    """The parts of a running server, exposed for tests and the CLI."""

    storage: Storage
    runners: RunnerRegistry
    workers: WorkerManager
    jobs: JobManager
    results: ResultManager
    dispatcher: Dispatcher
    poller: RdbPoller
    instances: RunnerInstances
    external: ExternalRunners
    restorer: JobRestorer
    queue: JobQueue
    bus: ResultBus
    backend: QueueBackend
    metrics: ResultMetrics = field(default_factory=ResultMetrics)


class JwpServer:
    """One `jwp serve` process."""

    def __init__(self, settings: Settings, role: Role = Role.ALL) -> None:
        self.settings = settings
        self.role = role
        self.port: int | None = None
        self.components: Components | None = None
        self._grpc: grpc.aio.Server | None = None
        self._health: HealthServicer | None = None
        self._dashboard: DashboardService | None = None
        self._stopped = asyncio.Event()
        self._started_at = 0.0
        self.extras: ServerExtras | None = None

    async def start(self) -> None:
        """Open storage, build the components, and start serving."""
        settings = self.settings
        if self.role is not Role.ALL and settings.storage_type is not StorageType.SCALABLE:
            raise FailedPreconditionError(
                f"--role {self.role.value} needs STORAGE_TYPE=Scalable (Redis and a shared "
                "database); set it, or use --role all for a single Standalone process"
            )
        self._started_at = time.monotonic()
        self.extras = ServerExtras(settings)
        storage = await open_storage(settings)
        components: Components | None = None
        backend: QueueBackend | None = None
        try:
            backend = await open_backend(settings)
            components = await self._build(storage, backend)
            await backend.start()
            if self.dispatches:
                await backend.queue.advertise_channels(settings.channel_concurrencies())
            await self._recover(components)
            self._grpc = self._build_grpc(components)
            self.port = transport.bind(self._grpc, settings)
            await self.extras.start(lambda target: self._add_services(target, components))
        except BaseException:
            await self.extras.stop_serving()
            await self.extras.close()
            if backend is not None:
                await backend.close()
            if components is not None:
                await components.external.close()
            await storage.close()
            raise
        await self._grpc.start()
        if self.dispatches:
            components.dispatcher.start()
            components.poller.start()
        self.components = components
        channels = ", ".join(
            f"{name}={concurrency}"
            for name, concurrency in settings.channel_concurrencies().items()
        )
        logger.info(
            "jwp serving on %s (port %d): role %s, storage %s (%s), queue %s, channels %s, "
            "%d runners",
            settings.grpc_addr,
            self.port,
            self.role.value,
            settings.storage_type.value,
            redact_url(storage.describe()),
            backend.description,
            channels if self.dispatches else "none (front)",
            len(components.runners),
        )

    @property
    def dispatches(self) -> bool:
        """Whether this process runs jobs (roles all and worker)."""
        return self.role is not Role.FRONT

    @property
    def serves_api(self) -> bool:
        """Whether this process serves the jobworkerp gRPC API (roles all and front)."""
        return self.role is not Role.WORKER

    async def _build(self, storage: Storage, backend: QueueBackend) -> Components:
        settings = self.settings
        ids = backend.ids

        host = RunnerHost(settings=settings)
        runners = RunnerRegistry(builtin_specs(host))
        host.runners = runners
        await runners.store_rows(storage.runners)

        queue, statuses, bus = backend.queue, backend.statuses, backend.bus
        channels = settings.channel_concurrencies()
        metrics = ResultMetrics()

        workers = WorkerManager(storage.workers, runners, settings)
        router = JobRouter(storage.jobs, queue, statuses, settings.job_queue_fetch_interval)
        recorder = JobRecorder(
            ids=ids,
            jobs=storage.jobs,
            job_results=storage.job_results,
            queue=queue,
            statuses=statuses,
            bus=bus,
            router=router,
            pipelined=backend.scalable,
        )
        recorder.add_observer(metrics)
        instances = RunnerInstances(channels)
        external = ExternalRunners(
            settings=settings,
            registry=runners,
            repository=storage.runners,
            ids=ids,
            drop_pools=instances.drop_runner,
        )
        await external.load_at_startup()
        executor = JobExecutor(
            runners=runners,
            instances=instances,
            recorder=recorder,
            jobs=storage.jobs,
            queue=queue,
            statuses=statuses,
            bus=bus,
            lease_ms=settings.jwp_lease_ms,
            max_output_bytes=settings.jwp_max_result_output_bytes,
        )
        dispatcher = Dispatcher(
            channel_concurrencies=channels,
            queue=queue,
            statuses=statuses,
            workers=workers,
            executor=executor,
        )
        poller = RdbPoller(
            jobs=storage.jobs,
            workers=workers,
            dispatcher=dispatcher,
            interval_ms=settings.job_queue_fetch_interval,
            lease_ms=settings.jwp_lease_ms,
        )
        router.set_poller_waker(self._poller_waker(poller, backend))
        assert self.extras is not None
        self.extras.observe(recorder, dispatcher, queue)
        jobs = JobManager(
            settings=settings,
            ids=ids,
            workers=workers,
            runners=runners,
            jobs=storage.jobs,
            queue=queue,
            statuses=statuses,
            bus=bus,
            router=router,
            recorder=recorder,
            dispatcher=dispatcher,
            events=backend.events if backend.scalable else None,
        )
        recorder.set_chain_enqueuer(jobs.enqueue_next)
        workers.add_listener(instances.drop)
        if backend.scalable:
            workers.set_change_publisher(backend.events.publish_worker_changed)
            external.set_change_publisher(backend.events.publish_runner_changed)
        backend.events.set_handlers(
            on_worker_changed=lambda worker_id: workers.invalidate(worker_id, tell_others=False),
            on_cancel=self._cancel_handler(dispatcher),
            on_rdb_job_due=poller.wake if self.dispatches else lambda: None,
            on_runner_changed=external.reload,
        )
        results = ResultManager(
            settings=settings, workers=workers, job_results=storage.job_results, bus=bus
        )
        host.workers, host.jobs, host.results = workers, jobs, results
        restorer = JobRestorer(
            jobs=storage.jobs,
            workers=workers,
            queue=queue,
            statuses=statuses,
            dispatcher=dispatcher,
        )
        return Components(
            storage=storage,
            runners=runners,
            workers=workers,
            jobs=jobs,
            results=results,
            dispatcher=dispatcher,
            poller=poller,
            instances=instances,
            external=external,
            restorer=restorer,
            queue=queue,
            bus=bus,
            backend=backend,
            metrics=metrics,
        )

    def _poller_waker(self, poller: RdbPoller, backend: QueueBackend) -> Callable[[], None]:
        """Return what wakes the RDB pollers: this process's, and in Scalable mode all others."""
        if not backend.scalable:
            return poller.wake
        pending: set[asyncio.Task[None]] = set()

        def wake() -> None:
            if self.dispatches:
                poller.wake()
            task = asyncio.create_task(self._publish_rdb_job_due(backend))
            pending.add(task)
            task.add_done_callback(pending.discard)

        return wake

    @staticmethod
    async def _publish_rdb_job_due(backend: QueueBackend) -> None:
        try:
            await backend.events.publish_rdb_job_due()
        except Exception as error:
            # The pollers find the job at their next regular poll anyway.
            logger.debug("could not wake the other RDB pollers: %s", error)

    @staticmethod
    def _cancel_handler(dispatcher: Dispatcher) -> Callable[[int], Awaitable[None]]:
        async def cancel(job_id: int) -> None:
            if dispatcher.cancel(job_id):
                logger.info("job %d: stopping it on a cancel request from another process", job_id)

        return cancel

    async def _recover(self, components: Components) -> None:
        """Free job rows claimed by a previous run of this process, then restore if asked.

        Standalone runs one process, so every claim in the RDB was left by
        an earlier run of it that stopped before finishing those jobs. In
        Scalable mode claims belong to live processes and run out by
        themselves; processes that start together restore only once.
        """
        backend = components.backend
        if not backend.scalable:
            released = await components.storage.jobs.release_all_grabs()
            if released:
                logger.info("released %d job claim(s) left by the previous run", released)
            # The in-process status map starts empty; stored jobs are pending.
            for job_id in await components.storage.jobs.find_ids():
                await backend.statuses.set(job_id, common_pb2.PENDING)
        if not self.settings.storage_restore_at_startup:
            await self._report_unrestored(components)
            return
        if backend.restore_lock is not None and not await backend.restore_lock(
            self.settings.jwp_lease_ms
        ):
            logger.info("another process is restoring WITH_BACKUP jobs; skipping it here")
            return
        await components.restorer.restore(include_grabbed=False, limit=None)

    async def _report_unrestored(self, components: Components) -> None:
        """Log WITH_BACKUP jobs that wait in the RDB but in no queue, and how to run them."""
        if not self.dispatches:
            return
        waiting = await components.restorer.find(
            include_grabbed=False, limit=UNRESTORED_REPORT_LIMIT
        )
        if not waiting:
            return
        count = f"{len(waiting)}+" if len(waiting) >= UNRESTORED_REPORT_LIMIT else str(len(waiting))
        logger.warning(
            "%s WITH_BACKUP job(s) wait in the RDB but in no queue, probably left by a crash; "
            "run them with `jwp job restore` or start with STORAGE_RESTORE_AT_STARTUP=true",
            count,
        )

    def _build_grpc(self, components: Components) -> grpc.aio.Server:
        assert self.extras is not None
        server = grpc.aio.server(
            options=transport.server_options(self.settings),
            interceptors=transport.server_interceptors(self.settings, self.extras.interceptors()),
        )
        self._health = HealthServicer()
        if not self.serves_api:
            health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
            reflection.enable_server_reflection(
                (health.SERVICE_NAME, reflection.SERVICE_NAME), server
            )
            return server

        self._add_services(server, components)
        reflection.enable_server_reflection(
            (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server
        )
        return server

    def _add_services(self, server: Any, components: Components) -> None:
        """Register the API services and health on a grpc.Server-like `server`.

        gRPC-Web registers the same servicers on its own server, so the
        dashboard servicer is made once and shared.
        """
        runner_pb2_grpc.add_RunnerServiceServicer_to_server(
            RunnerService(components.runners, components.external, components.workers), server
        )
        worker_pb2_grpc.add_WorkerServiceServicer_to_server(
            WorkerService(components.workers, components.queue.served_channels), server
        )
        job_pb2_grpc.add_JobServiceServicer_to_server(JobService(components.jobs), server)
        job_batch_pb2_grpc.add_JobBatchServiceServicer_to_server(
            JobBatchService(components.jobs), server
        )
        job_pb2_grpc.add_JobStatusServiceServicer_to_server(
            JobStatusService(components.jobs), server
        )
        job_pb2_grpc.add_JobRestoreServiceServicer_to_server(
            JobRestoreService(components.restorer), server
        )
        job_result_pb2_grpc.add_JobResultServiceServicer_to_server(
            JobResultService(components.results), server
        )
        if self._dashboard is None:
            self._dashboard = DashboardService(
                dispatcher=components.dispatcher,
                queue=components.queue,
                jobs=components.storage.jobs,
                workers=components.storage.workers,
                metrics=components.metrics,
                storage_type=self.settings.storage_type,
                started_monotonic=self._started_at,
            )
        dashboard_pb2_grpc.add_DashboardServiceServicer_to_server(self._dashboard, server)
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)

    async def mark_serving(self) -> None:
        """Report SERVING on the health service, overall and per service."""
        assert self._health is not None
        for name in ("", *(SERVICE_NAMES if self.serves_api else ())):
            await self._health.set(name, health_pb2.HealthCheckResponse.SERVING)

    async def stop(self, grace_s: float | None = None) -> None:
        """Shut down: drain jobs within the grace period, keep queued ones, stop serving."""
        components = self.components
        if components is None or self._grpc is None:
            return
        self.components = None
        grace = self.settings.jwp_shutdown_grace_ms / 1000 if grace_s is None else grace_s
        logger.info("shutting down: no new jobs are taken")
        components.jobs.accepting = False
        if self._health is not None:
            await self._health.enter_graceful_shutdown()

        await components.poller.stop()
        await components.dispatcher.stop_fetching()
        await components.dispatcher.drain(grace)
        kept = await self._keep_queued_jobs(components)
        components.jobs.release_direct_waiters()

        logger.info("stopping the gRPC server")
        if self._dashboard is not None:
            self._dashboard.close()
        if self.extras is not None:
            await self.extras.stop_serving()
        await self._grpc.stop(GRPC_STOP_GRACE_S)
        await components.instances.close()
        await components.external.close()
        await process.wait_for_cleanups()
        await components.bus.close()
        await components.backend.close()
        await components.storage.close()
        if self.extras is not None:
            await self.extras.close()
        counts = components.dispatcher.counts
        logger.info(
            "jwp stopped after %.0f s: %d job(s) run, %d put back, %d queued job(s) kept in "
            "the RDB",
            time.monotonic() - self._started_at,
            counts.finished - counts.put_back,
            counts.put_back,
            kept,
        )
        self._stopped.set()

    async def _keep_queued_jobs(self, components: Components) -> int:
        """Store jobs still in the memory queue as due RDB rows, so the next start runs them.

        DIRECT jobs are dropped: their callers are told the server stopped,
        and running them later would answer no one.
        """
        kept = 0
        if not isinstance(components.queue, MemoryJobQueue):
            return kept
        for _channel, job in components.queue.drain():
            worker = await components.workers.find(job.data.worker_id.value)
            if worker is None or worker.data.response_type == common_pb2.DIRECT:
                continue
            job.data.run_after_time = max(job.data.run_after_time, now_ms())
            job.data.ClearField("grabbed_until_time")
            try:
                await components.storage.jobs.upsert(job)
                kept += 1
            except Exception:
                logger.exception("job %d could not be kept in the RDB at shutdown", job.id.value)
        return kept

    async def wait_stopped(self) -> None:
        await self._stopped.wait()
