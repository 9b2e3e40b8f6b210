"""Details of the machine and the software a benchmark ran on."""

from __future__ import annotations

import importlib.metadata
import os
import platform
from pathlib import Path

PACKAGES = (
    "jwp",
    "grpcio",
    "protobuf",
    "redis",
    "hiredis",
    "sqlalchemy",
    "asyncmy",
    "dramatiq",
    "celery",
    "kombu",
    "arq",
    "rq",
    "uvloop",
)


def cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return platform.processor() or "unknown"
    for line in text.splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def package_versions() -> list[tuple[str, str]]:
    versions = []
    for name in PACKAGES:
        try:
            versions.append((name, importlib.metadata.version(name)))
        except importlib.metadata.PackageNotFoundError:
            versions.append((name, "not installed"))
    return versions


def describe(redis_version: str, mariadb_version: str) -> list[str]:
    """Return Markdown lines describing this machine and the package versions."""
    lines = [
        f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores",
        f"- OS: {platform.platform()}",
        f"- Python: {platform.python_version()} ({platform.python_implementation()})",
        f"- Redis: {redis_version}, MariaDB: {mariadb_version}, both on loopback",
        f"- load average at the end (1 / 5 / 15 min): {load_average()}",
        "- packages: " + ", ".join(f"{name} {version}" for name, version in package_versions()),
    ]
    return lines
