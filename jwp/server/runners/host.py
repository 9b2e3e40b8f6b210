"""What a runner may use of the server it runs in.

Most runners need only settings. Runners that start jobs of their own (the
workflow runners) or add runners (MCP, plugins) need the server's
managers, which exist only after the registry was built; `JwpServer`
fills them in before it serves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from jwp.config import Settings

if TYPE_CHECKING:
    from jwp.server.jobs import JobManager
    from jwp.server.results import ResultManager
    from jwp.server.workers import WorkerManager

    from .registry import RunnerRegistry


@dataclass
class RunnerHost:
    """The server parts a runner factory can reach; the managers are set at start-up."""

    settings: Settings
    runners: RunnerRegistry | None = None
    workers: WorkerManager | None = None
    jobs: JobManager | None = None
    results: ResultManager | None = None

    def require_jobs(self) -> JobManager:
        if self.jobs is None:
            raise RuntimeError("the job manager is not set yet; runners run only after start-up")
        return self.jobs

    def require_workers(self) -> WorkerManager:
        if self.workers is None:
            raise RuntimeError("the worker manager is not set yet; runners run only after start-up")
        return self.workers

    def require_runners(self) -> RunnerRegistry:
        if self.runners is None:
            raise RuntimeError("the runner registry is not set yet")
        return self.runners
