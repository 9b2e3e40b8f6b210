"""Logging set-up for `jwp serve` and the job context stamped on every record.

Library modules only call `logging.getLogger(__name__)`; this module is the
one place that configures handlers, and only the CLI calls it. While a job
runs, `job_context()` puts its id, worker and channel into a context
variable; asyncio copies it into every task the job starts, and a filter
adds it to each record, so a line logged deep inside a runner still names
its job.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
import time
from collections.abc import Iterator
from pathlib import Path

_job_fields: contextvars.ContextVar[dict[str, object] | None] = contextvars.ContextVar(
    "jwp_job_fields", default=None
)


@contextlib.contextmanager
def job_context(**fields: object) -> Iterator[None]:
    """Stamp `fields` (job_id, worker, channel, attempt …) on records logged inside the block."""
    merged = dict(_job_fields.get() or {})
    merged.update(fields)
    token = _job_fields.set(merged)
    try:
        yield
    finally:
        _job_fields.reset(token)


class _JobContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        fields = _job_fields.get()
        record.job_fields = fields or {}
        record.job_suffix = (
            " [" + " ".join(f"{key}={value}" for key, value in fields.items()) + "]"
            if fields
            else ""
        )
        return True


class _JsonFormatter(logging.Formatter):
    def __init__(self, app_name: str) -> None:
        super().__init__()
        self.app_name = app_name

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "app": self.app_name,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "job_fields", {}) or {})
        if record.exc_info:
            # exc_text may already be set, with secrets masked, by jwp.redact.SecretFilter.
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s%(job_suffix)s"


def configure_logging(
    level: str,
    *,
    use_json: bool = False,
    use_stdout: bool = True,
    file_dir: Path | None = None,
    app_name: str = "jwp",
) -> None:
    """Install handlers on the root logger; call once, from the command line entry point."""
    formatter: logging.Formatter = (
        _JsonFormatter(app_name) if use_json else logging.Formatter(TEXT_FORMAT)
    )
    handlers: list[logging.Handler] = []
    if use_stdout:
        handlers.append(logging.StreamHandler(sys.stdout))
    if file_dir is not None:
        file_dir.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(file_dir / f"{app_name}.log", encoding="utf-8"))
    if not handlers:
        handlers.append(logging.StreamHandler(sys.stderr))

    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    context_filter = _JobContextFilter()
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(context_filter)
        root.addHandler(handler)
    root.setLevel(level.upper())

    # Third-party libraries are chatty at INFO; keep them at WARNING unless
    # the operator asks for DEBUG.
    if level.upper() != "DEBUG":
        for noisy in ("aiosqlite", "alembic", "sqlalchemy.engine", "httpx", "httpcore", "asyncio"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
