"""Fixtures for runner tests that start real processes."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from jwp.server.runners import process


@pytest.fixture(autouse=True)
async def _finish_process_cleanups() -> AsyncIterator[None]:
    """Wait for background process-group cleanups before the test's event loop closes."""
    yield
    await process.wait_for_cleanups()


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A killed orphan stays a zombie until PID 1 reaps it, and the PID 1 of some
    # containers never does, so a zombie counts as stopped.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


@pytest.fixture
def is_running() -> Callable[[int], bool]:
    """Return a check whether a pid belongs to a process that has not exited."""
    return _is_running


@pytest.fixture
def assert_reaped() -> Callable[[int], None]:
    """Return a check that a direct child has exited and been reaped (no zombie left)."""

    def check(pid: int) -> None:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)

    return check
