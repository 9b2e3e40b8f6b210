"""Checks on processes that tests start through runners."""

from __future__ import annotations

import os
from pathlib import Path


def process_alive(pid: int) -> bool:
    """Return whether `pid` is a process that has not exited.

    A killed orphan stays a zombie until PID 1 reaps it, and the PID 1 of
    some containers never does, so a zombie counts as exited.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")
