"""The hook through which metrics and traces see every recorded run.

The recorder calls `job_finished` once per run whose outcome it recorded:
with ERROR_AND_RETRY when a retry was scheduled, else with the final status.
Runs put back at shutdown and runs whose claim was lost are not reported,
because no outcome was recorded for them.
"""

from __future__ import annotations

import logging

from .outcome import ResultStatus
from .run import JobRun

logger = logging.getLogger(__name__)


class JobObserver:
    """Receives recorded runs; override the methods needed.

    Methods run in the event loop right after the outcome is stored, so they
    must return quickly and never block.
    """

    def job_finished(self, run: JobRun, status: ResultStatus, duration_ms: int) -> None:
        """Called after a run's outcome was recorded; `duration_ms` is the runner's time."""


class JobObservers(JobObserver):
    """Forwards each call to every added observer; one that raises is logged and skipped."""

    def __init__(self) -> None:
        self._observers: list[JobObserver] = []

    def add(self, observer: JobObserver) -> None:
        self._observers.append(observer)

    def job_finished(self, run: JobRun, status: ResultStatus, duration_ms: int) -> None:
        for observer in self._observers:
            try:
                observer.job_finished(run, status, duration_ms)
            except Exception:
                logger.exception(
                    "job observer %s failed for job %d", type(observer).__name__, run.job_id
                )
