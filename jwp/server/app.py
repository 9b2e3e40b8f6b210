"""Builds a jwp server from settings and runs its lifecycle.

`JwpServer.start` opens storage, registers the runners, wires the queue,
dispatcher, RDB poller and application layer together, and serves the
gRPC API. `JwpServer.stop` shuts down in the order that loses nothing:
stop taking jobs, let running jobs finish within the grace period, put back
the rest, keep still-queued jobs in the RDB, stop the gRPC server, close.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from jwp.config import Settings, StorageType
from jwp.errors import FailedPreconditionError
from jwp.ids import SnowflakeGenerator, node_id_from_host
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
from jwp.server.dispatch.dispatcher import Dispatcher
from jwp.server.dispatch.executor import JobExecutor
from jwp.server.dispatch.poller import RdbPoller
from jwp.server.dispatch.pools import RunnerInstances
from jwp.server.dispatch.recorder import JobRecorder
from jwp.server.grpc.job_result_service import JobResultService
from jwp.server.grpc.job_service import JobRestoreService, JobService, JobStatusService
from jwp.server.grpc.runner_service import RunnerService
from jwp.server.grpc.worker_service import WorkerService
from jwp.server.jobs import JobManager
from jwp.server.queue.memory import MemoryJobQueue, MemoryJobStatusMap, MemoryResultBus
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

# Largest gRPC message the server sends or accepts, in bytes. Captured
# command output alone may reach twice JWP_COMMAND_OUTPUT_LIMIT_BYTES.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024

# How long the gRPC server lets open calls (DIRECT waits, listeners) end on
# their own after the jobs were drained, in s.
GRPC_STOP_GRACE_S = 2.0

# Length of the claim a process holds on a job row while it runs, in ms. It
# is renewed every third of this, so a live process never loses it, and a
# dead process's jobs are free again within this time.
JOB_LEASE_MS = 30_000

SERVICE_NAMES = (
    runner_pb2.DESCRIPTOR.services_by_name["RunnerService"].full_name,
    worker_pb2.DESCRIPTOR.services_by_name["WorkerService"].full_name,
    job_pb2.DESCRIPTOR.services_by_name["JobService"].full_name,
    job_pb2.DESCRIPTOR.services_by_name["JobStatusService"].full_name,
    job_pb2.DESCRIPTOR.services_by_name["JobRestoreService"].full_name,
    job_result_pb2.DESCRIPTOR.services_by_name["JobResultService"].full_name,
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
    queue: MemoryJobQueue
    bus: MemoryResultBus


class JwpServer:
    """One `jwp serve` process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port: int | None = None
        self.components: Components | None = None
        self._grpc: grpc.aio.Server | None = None
        self._health: HealthServicer | None = None
        self._stopped = asyncio.Event()
        self._started_at = 0.0

    async def start(self) -> None:
        """Open storage, build the components, and start serving."""
        settings = self.settings
        if settings.storage_type is StorageType.SCALABLE:
            raise FailedPreconditionError(
                "STORAGE_TYPE=Scalable is not supported by this version; use Standalone"
            )
        self._started_at = time.monotonic()
        storage = await open_storage(settings)
        components: Components | None = None
        try:
            components = await self._build(storage)
            await self._recover(components)
            self._grpc = self._build_grpc(components)
            self.port = self._grpc.add_insecure_port(settings.grpc_addr)
        except BaseException:
            if components is not None:
                await components.external.close()
            await storage.close()
            raise
        await self._grpc.start()
        components.dispatcher.start()
        components.poller.start()
        self.components = components
        channels = ", ".join(
            f"{name}={concurrency}"
            for name, concurrency in settings.channel_concurrencies().items()
        )
        logger.info(
            "jwp serving on %s (port %d): storage %s (%s), channels %s, %d runners",
            settings.grpc_addr,
            self.port,
            settings.storage_type.value,
            storage.describe(),
            channels,
            len(components.runners),
        )

    async def _build(self, storage: Storage) -> Components:
        settings = self.settings
        node_id = settings.jwp_node_id
        if node_id is None:
            node_id = await asyncio.to_thread(node_id_from_host)
        ids = SnowflakeGenerator(node_id)

        host = RunnerHost(settings=settings)
        runners = RunnerRegistry(builtin_specs(host))
        host.runners = runners
        await runners.store_rows(storage.runners)

        queue = MemoryJobQueue()
        statuses = MemoryJobStatusMap()
        bus = MemoryResultBus(remember_s=settings.job_queue_expire_job_result_seconds)
        channels = settings.channel_concurrencies()

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
        )
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
            lease_ms=JOB_LEASE_MS,
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
            lease_ms=JOB_LEASE_MS,
        )
        router.set_poller_waker(poller.wake)
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
        )
        recorder.set_chain_enqueuer(jobs.enqueue_next)
        workers.add_listener(instances.drop)
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
        )

    async def _recover(self, components: Components) -> None:
        """Free job rows claimed by a previous run of this process, then restore if asked.

        Standalone runs one process, so every claim in the RDB was left by
        an earlier run of it that stopped before finishing those jobs.
        """
        released = await components.storage.jobs.release_all_grabs()
        if released:
            logger.info("released %d job claim(s) left by the previous run", released)
        if self.settings.storage_restore_at_startup:
            await components.restorer.restore(include_grabbed=False, limit=None)

    def _build_grpc(self, components: Components) -> grpc.aio.Server:
        server = grpc.aio.server(
            options=[
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ]
        )
        channels = self.settings.channel_concurrencies()
        runner_pb2_grpc.add_RunnerServiceServicer_to_server(
            RunnerService(components.runners, components.external), server
        )
        worker_pb2_grpc.add_WorkerServiceServicer_to_server(
            WorkerService(components.workers, channels), server
        )
        job_pb2_grpc.add_JobServiceServicer_to_server(JobService(components.jobs), server)
        job_pb2_grpc.add_JobStatusServiceServicer_to_server(
            JobStatusService(components.jobs), server
        )
        job_pb2_grpc.add_JobRestoreServiceServicer_to_server(
            JobRestoreService(components.restorer), server
        )
        job_result_pb2_grpc.add_JobResultServiceServicer_to_server(
            JobResultService(components.results), server
        )

        self._health = HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        reflection.enable_server_reflection(
            (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server
        )
        return server

    async def mark_serving(self) -> None:
        """Report SERVING on the health service, overall and per service."""
        assert self._health is not None
        for name in ("", *SERVICE_NAMES):
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

        logger.info("stopping the gRPC server")
        await self._grpc.stop(GRPC_STOP_GRACE_S)
        await components.instances.close()
        await components.external.close()
        await process.wait_for_cleanups()
        await components.bus.close()
        await components.queue.close()
        await components.storage.close()
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
