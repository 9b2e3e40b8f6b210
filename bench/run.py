"""One benchmark run: every chosen workload on jwp, the peers and the baselines."""

from __future__ import annotations

import logging
import os
import secrets
import sys
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path

from . import deployments, echo, fanout, jwp_client, machine, subprocess_loop
from .processes import Child, children, free_port
from .redis_keys import delete_keys, server_version
from .report import Report, error_text
from .stats import Latencies

logger = logging.getLogger("bench")

WORKLOADS = ("noop", "direct", "command", "timing")

BATCH_SIZE = 100
BATCHES_IN_FLIGHT = 4
NOOP_VARIANTS = (
    # (figure name, results stored in the RDB, EnqueueBatch size or 0 for Enqueue)
    ("noop", False, 0),
    ("noop batch", False, BATCH_SIZE),
    ("noop stored", True, 0),
)
"""The no-op runs on each jwp deployment; stored results only in Scalable mode."""
VARIANT_NAMES = {"enqueue": "noop", "batch": "noop batch", "stored": "noop stored"}
"""--variants names of the no-op runs."""


@dataclass(frozen=True)
class Options:
    jobs: int
    direct_jobs: int
    command_jobs: int
    in_flight: int
    only: tuple[str, ...]
    peers: tuple[str, ...]
    modes: tuple[str, ...]
    services: deployments.Services
    folder: Path
    jwp_env: dict[str, str]
    profile_dir: Path | None = None
    variants: tuple[str, ...] = tuple(VARIANT_NAMES)


def _deployment(options: Options, mode: str) -> AbstractAsyncContextManager[deployments.Deployment]:
    if mode == "scalable":
        return deployments.scalable(
            options.folder, options.services, options.jwp_env, options.profile_dir
        )
    return deployments.standalone(options.folder, options.jwp_env, options.profile_dir)


async def _measure_echo(options: Options) -> tuple[jwp_client.Throughput, Latencies]:
    """Call rate with `in_flight` calls outstanding, then one-at-a-time round trips."""
    address = f"127.0.0.1:{free_port()}"
    server = Child(
        "echo server", [sys.executable, "-m", "bench.echo", address], {},
        options.folder / "echo.log",
    )  # fmt: skip
    async with children(server):
        rate = await echo.call_rate(address, options.jobs, options.in_flight)
        trips = await echo.round_trips(address, options.direct_jobs)
        return rate, trips


async def _guarded(label: str, coroutine: object) -> object:
    """Await a measurement; log a failure and return its text instead of raising."""
    logger.info("measuring %s", label)
    try:
        return await coroutine  # type: ignore[misc]
    except Exception as error:
        logger.warning("%s failed: %s", label, error)
        return error_text(error)


async def _jwp_figures(options: Options, mode: str) -> dict[str, object]:
    """Run the chosen jwp workloads on one deployment; return their figures by name."""
    figures: dict[str, object] = {}
    try:
        async with (
            _deployment(options, mode) as deployment,
            jwp_client.connect(deployment.address) as client,
        ):
            await _jwp_workloads(options, mode, client, figures)
    except Exception as error:
        logger.warning("jwp %s failed: %s", mode, error)
        figures.setdefault("noop", error_text(error))
    return figures


async def _jwp_workloads(
    options: Options, mode: str, client: jwp_client.JwpClient, figures: dict[str, object]
) -> None:
    if "noop" in options.only:
        for name, store_results, batch_size in NOOP_VARIANTS:
            if mode != "scalable" and store_results:
                continue
            if name not in {VARIANT_NAMES[variant] for variant in options.variants}:
                continue
            figures[name] = await _guarded(
                f"jwp {mode} {name}",
                jwp_client.noop_throughput(
                    client,
                    options.jobs,
                    options.in_flight if not batch_size else BATCHES_IN_FLIGHT,
                    store_results=store_results,
                    batch_size=batch_size,
                ),
            )
    if "direct" in options.only:
        figures["direct"] = await _guarded(
            f"jwp {mode} DIRECT", jwp_client.direct_latency(client, options.direct_jobs)
        )
    if "command" in options.only:
        # The bare loop runs right before jwp's jobs, so that both see about
        # the same load from the rest of the machine.
        figures["command baseline"] = await _guarded(
            "asyncio subprocess loop",
            subprocess_loop.run_true(options.command_jobs, deployments.COMMAND_CONCURRENCY),
        )
        figures["command"] = await _guarded(
            f"jwp {mode} COMMAND",
            jwp_client.command_throughput(client, options.command_jobs, options.in_flight),
        )
    if "timing" in options.only and mode == "scalable":
        for listeners in (1, 10, 100):
            figures[f"listen {listeners}"] = await _guarded(
                f"Listen x{listeners}", fanout.listen_latency(client, listeners, rounds=5)
            )


async def _peer_figures(options: Options) -> dict[str, object]:
    from .peers import run as peers

    namespace = f"jwp_bench_peers_{secrets.token_hex(4)}"
    os.environ["BENCH_REDIS_URL"] = (
        f"{options.services.redis_url.rstrip('/')}/{options.services.redis_db}"
    )
    os.environ["BENCH_NAMESPACE"] = namespace
    figures: dict[str, object] = {}
    try:
        for key in options.peers:
            peer = peers.PEERS[key]
            figures[key] = await _guarded(
                f"{peer.name} no-op", peers.run_peer(peer, options.jobs, options.folder)
            )
    finally:
        await delete_keys(options.services.redis_url, options.services.redis_db, namespace)
    return figures


async def run(options: Options) -> Report:
    """Measure every chosen workload and return the report."""
    echo_figures: tuple[jwp_client.Throughput, Latencies] | str | None = None
    if {"noop", "direct"} & set(options.only):
        echo_figures = await _guarded("grpc.aio echo", _measure_echo(options))  # type: ignore[assignment]
    jwp_figures = {mode: await _jwp_figures(options, mode) for mode in options.modes}
    peer_figures = await _peer_figures(options) if "noop" in options.only else {}
    timing: dict[str, list[float]] | str | None = None
    if "timing" in options.only:
        from . import lifecycle_timing

        timing = await _guarded("lifecycle timing", lifecycle_timing.measure(40, 15))  # type: ignore[assignment]

    report = Report()
    report.header = await _header(options)
    from . import sections

    sections.add_noop(report, options, jwp_figures, peer_figures, echo_figures)
    sections.add_direct(report, options, jwp_figures, echo_figures)
    sections.add_command(report, options, jwp_figures)
    sections.add_timing(report, options, jwp_figures, timing)
    return report


async def _header(options: Options) -> list[str]:
    redis_version = await server_version(options.services.redis_url)
    mariadb_version = await deployments.mariadb_version(options.services.mysql_url)
    lines = [
        f"Command: `python -m bench run --jobs {options.jobs} --direct-jobs {options.direct_jobs} "
        f"--command-jobs {options.command_jobs} --only {','.join(options.only)}`",
        "",
        *machine.describe(redis_version, mariadb_version),
        f"- the client sends up to {options.in_flight} requests at once (jwp, arq, echo); "
        "the Dramatiq, Celery and RQ clients send one message after another, as their "
        "APIs do",
    ]
    return lines
