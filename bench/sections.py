"""The report's sections and target verdicts, built from a run's figures."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .deployments import COMMAND_CONCURRENCY, NOOP_CONCURRENCY
from .jwp_client import Throughput
from .report import LatencyRow, RateRow, Report, Target, latency_table, rate_table
from .stats import Latencies

if TYPE_CHECKING:
    from .run import Options

Figures = dict[str, object]
EchoFigures = tuple[Throughput, Latencies] | str | None

MODE_LAYOUTS = {
    "scalable": f"front + worker (concurrency {NOOP_CONCURRENCY}), Redis, MariaDB",
    "standalone": f"one process (concurrency {NOOP_CONCURRENCY}), SQLite",
}
NOOP_GOAL = 2.0
DIRECT_GOAL = 2.0
COMMAND_GOAL = 0.8


def _outcome(value: object) -> Throughput | str:
    if isinstance(value, Throughput | str):
        return value
    return "not measured"


def _latency(value: object) -> Latencies | str:
    if isinstance(value, Latencies | str):
        return value
    return "not measured"


def add_noop(
    report: Report,
    options: Options,
    jwp: dict[str, Figures],
    peers: Figures,
    echo: EchoFigures,
) -> None:
    if "noop" not in options.only:
        return
    from .peers.run import PEERS
    from .run import BATCH_SIZE, BATCHES_IN_FLIGHT

    variants = {
        "noop": "Enqueue",
        "noop batch": f"EnqueueBatch of {BATCH_SIZE}, {BATCHES_IN_FLIGHT} in flight",
        "noop stored": "Enqueue, results stored in MariaDB",
    }
    rows = []
    for mode, figures in jwp.items():
        for name, label in variants.items():
            if name in figures:
                layout = f"{MODE_LAYOUTS[mode]}; {label}"
                rows.append(RateRow(f"jwp {mode}", layout, _outcome(figures[name])))
    peer_rows = [
        RateRow(PEERS[key].name, PEERS[key].layout, _outcome(value)) for key, value in peers.items()
    ]
    peer_rates = [row.outcome.rate for row in peer_rows if isinstance(row.outcome, Throughput)]
    best_peer = max(peer_rates, default=None)
    rows += peer_rows
    if isinstance(echo, tuple):
        layout = f"bare unary calls, {options.in_flight} in flight (not jobs)"
        rows.append(RateRow("grpc.aio echo", layout, echo[0]))
    report.sections.append(
        rate_table(f"No-op throughput, {options.jobs} jobs", rows, best_peer, "best peer")
    )
    for name, label in (("noop", "Enqueue"), ("noop batch", "EnqueueBatch")):
        scalable = jwp.get("scalable", {}).get(name)
        measured = "—"
        met = None
        if isinstance(scalable, Throughput) and best_peer:
            ratio = scalable.rate / best_peer
            measured = (
                f"{scalable.rate:,.0f} jobs/s = {ratio:.2f}x the best peer ({best_peer:,.0f})"
            )
            met = ratio >= NOOP_GOAL
        report.targets.append(
            Target(
                f"no-op throughput, Scalable, {label}",
                f">= {NOOP_GOAL:g}x the best peer",
                measured,
                met,
            )
        )


def add_direct(
    report: Report, options: Options, jwp: dict[str, Figures], echo: EchoFigures
) -> None:
    if "direct" not in options.only:
        return
    echo_trips = echo[1] if isinstance(echo, tuple) else None
    rows = [
        LatencyRow(f"jwp {mode} DIRECT no-op, enqueue to result", _latency(figures.get("direct")))
        for mode, figures in jwp.items()
    ]
    rows.append(LatencyRow("grpc.aio echo round trip", echo_trips or _latency(echo)))
    base = echo_trips.p50_ms if echo_trips else None
    report.sections.append(
        latency_table(f"DIRECT latency, {options.direct_jobs} jobs one at a time", rows, base)
    )
    direct = jwp.get("scalable", {}).get("direct")
    measured = "—"
    met = None
    if isinstance(direct, Latencies) and echo_trips:
        ratio = direct.p50_ms / echo_trips.p50_ms
        measured = (
            f"p50 {direct.p50_ms:.2f} ms = {ratio:.2f}x echo ({echo_trips.p50_ms:.2f} ms), "
            f"p99 {direct.p99_ms:.2f} ms"
        )
        met = ratio <= DIRECT_GOAL
    report.targets.append(
        Target(
            "DIRECT latency p50, Scalable",
            f"<= {DIRECT_GOAL:g}x a grpc.aio round trip",
            measured,
            met,
        )
    )


def add_command(report: Report, options: Options, jwp: dict[str, Figures]) -> None:
    if "command" not in options.only:
        return
    rows = []
    for mode, figures in jwp.items():
        baseline = _outcome(figures.get("command baseline"))
        base = baseline.rate if isinstance(baseline, Throughput) else None
        layout = f"`true`, {COMMAND_CONCURRENCY} at once, just before jwp {mode}"
        rows.append(RateRow("asyncio subprocess loop", layout, baseline))
        command = _outcome(figures.get("command"))
        layout = f"COMMAND `true`, concurrency {COMMAND_CONCURRENCY}"
        rows.append(RateRow(f"jwp {mode}", layout, command, base))
        measured = "—"
        met = None
        if isinstance(command, Throughput) and base:
            ratio = command.rate / base
            measured = f"{command.rate:,.0f} jobs/s = {ratio:.0%} of {base:,.0f}"
            met = ratio >= COMMAND_GOAL
        report.targets.append(
            Target(
                f"COMMAND rate, {mode}",
                f">= {COMMAND_GOAL:.0%} of the subprocess loop",
                measured,
                met,
            )
        )
    report.sections.append(
        rate_table(
            f"COMMAND overhead, {options.command_jobs} jobs",
            rows,
            None,
            "the subprocess loop above it",
        )
    )


def add_timing(report: Report, options: Options, jwp: dict[str, Figures], timing: object) -> None:
    if "timing" not in options.only:
        return
    rows = []
    if isinstance(timing, dict):
        rows += [
            LatencyRow(f"Standalone {name}", Latencies.of(values))
            for name, values in timing.items()
        ]
    elif isinstance(timing, str):
        rows.append(LatencyRow("Standalone scheduled and periodic jobs", timing))
    for name, value in jwp.get("scalable", {}).items():
        if name.startswith("listen "):
            count = name.split()[1]
            rows.append(
                LatencyRow(
                    f"Scalable Listen with {count} listener(s), end_time to receipt",
                    _latency(value),
                )
            )
    report.sections.append(latency_table("Timing", rows, None))
