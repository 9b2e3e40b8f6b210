"""The Markdown report of a benchmark run: one table per workload and the targets."""

from __future__ import annotations

from dataclasses import dataclass, field

from .jwp_client import Throughput
from .stats import Latencies


@dataclass
class RateRow:
    system: str
    layout: str
    outcome: Throughput | str
    """The measured throughput, or why the system could not be measured."""
    base: float | None = None
    """Rate this row is compared with, when it is not the table's."""


@dataclass
class LatencyRow:
    measure: str
    outcome: Latencies | str


@dataclass
class Target:
    name: str
    goal: str
    measured: str
    met: bool | None
    """None when a figure the target needs is missing."""


@dataclass
class Report:
    header: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)

    def render(self) -> str:
        lines = ["# jwp benchmark run", "", *self.header, ""]
        if self.targets:
            lines += ["## Targets", "", "| target | goal | measured | met |"]
            lines.append("| --- | --- | --- | --- |")
            for target in self.targets:
                verdict = {True: "yes", False: "no", None: "not measured"}[target.met]
                lines.append(f"| {target.name} | {target.goal} | {target.measured} | {verdict} |")
            lines.append("")
        for section in self.sections:
            lines += [section, ""]
        return "\n".join(lines)


def rate_table(title: str, rows: list[RateRow], base: float | None, base_name: str) -> str:
    lines = [
        f"## {title}",
        "",
        f"| system | layout | jobs | seconds | jobs/s | vs {base_name} |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        if isinstance(row.outcome, str):
            lines.append(f"| {row.system} | {row.layout} | — | — | {row.outcome} | — |")
            continue
        row_base = row.base or base
        ratio = f"{row.outcome.rate / row_base:.2f}x" if row_base else "—"
        lines.append(
            f"| {row.system} | {row.layout} | {row.outcome.jobs} | {row.outcome.seconds:.2f} | "
            f"{row.outcome.rate:,.0f} | {ratio} |"
        )
    return "\n".join(lines)


def latency_table(title: str, rows: list[LatencyRow], base_p50_ms: float | None) -> str:
    lines = [
        f"## {title}",
        "",
        "| measure | n | p50 ms | p99 ms | max ms | p50 / echo p50 |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        if isinstance(row.outcome, str):
            lines.append(f"| {row.measure} | — | — | — | {row.outcome} | — |")
            continue
        figures = row.outcome
        ratio = f"{figures.p50_ms / base_p50_ms:.2f}x" if base_p50_ms else "—"
        lines.append(
            f"| {row.measure} | {figures.count} | {figures.p50_ms:.2f} | {figures.p99_ms:.2f} | "
            f"{figures.max_ms:.2f} | {ratio} |"
        )
    return "\n".join(lines)


def error_text(error: BaseException) -> str:
    """Return a table cell that names an error: its type and first line, without pipes."""
    first_line = (str(error).splitlines() or [""])[0].replace("|", "/")[:160]
    return f"failed: {type(error).__name__}: {first_line}"
