"""Virtual environments of the PYTHON_COMMAND runner, made with uv and shared through a cache.

An environment is identified by a hash of its Python version and its
requirements (the sorted package list, or the text of a requirements
file). Every worker with the same settings uses the same folder under the
cache root, in this process and in other processes on the same host.

Creation is guarded by an exclusive `flock` on `<key>.lock` beside the
folder, and a folder counts as ready only once its marker file exists. A
load that finds the marker takes the environment at once. Otherwise it
waits for the lock, checks the marker again (another process may have just
finished), and builds the environment: it removes what a failed or stopped
attempt left behind, runs `uv venv` and `uv pip install`, then writes the
marker.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from jwp.errors import FatalRunnerError

from . import process

logger = logging.getLogger(__name__)

READY_MARKER = ".jwp-ready"

# uv's output kept for an error message; its errors fit in far less.
UV_OUTPUT_LIMIT_BYTES = 64 * 1024

# How often a load waiting for another load's build checks the lock, in s.
# A build takes seconds, so a tenth of a second adds little.
LOCK_POLL_INTERVAL_S = 0.1


@dataclass(frozen=True)
class Requirements:
    """Packages to install: a list of specifiers, or the text of a requirements file."""

    packages: tuple[str, ...] = ()
    requirements_text: str | None = None

    def identity(self) -> dict[str, object]:
        if self.requirements_text is not None:
            return {"requirements": self.requirements_text}
        return {"packages": sorted(self.packages)}


def environment_key(python_version: str, requirements: Requirements) -> str:
    """Return the cache key of an environment: a hash of its version and requirements."""
    identity = {"python": python_version, **requirements.identity()}
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class PythonEnvironment:
    """A ready virtual environment."""

    path: Path

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"


async def ensure_environment(
    root: Path,
    *,
    uv: str,
    python_version: str,
    requirements: Requirements,
    kill_grace_s: float,
) -> PythonEnvironment:
    """Return the cached environment for the version and requirements, building it if needed.

    Raises:
        FatalRunnerError: uv is missing or failed (unknown package, no such
            Python version), or the cache folder cannot be written.
    """
    key = environment_key(python_version, requirements)
    environment = PythonEnvironment(root / key)
    if (environment.path / READY_MARKER).exists():
        logger.debug("reusing Python environment %s", environment.path)
        return environment

    try:
        await asyncio.to_thread(root.mkdir, parents=True, exist_ok=True)
    except OSError as error:
        raise FatalRunnerError(
            f"PYTHON_COMMAND: cannot create the environment folder {root}: {error.strerror}; "
            "set JWP_PYTHON_ENV_DIR to a writable folder"
        ) from None
    async with _locked(root / f"{key}.lock"):
        if (environment.path / READY_MARKER).exists():
            return environment
        await _build(environment, uv, python_version, requirements, kill_grace_s)
    return environment


@contextlib.asynccontextmanager
async def _locked(lock_path: Path) -> AsyncIterator[None]:
    """Hold an exclusive flock on lock_path for the duration of the block."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        # flock reports no event when a lock frees, and a blocking flock in a
        # thread could not be cancelled, so the lock is polled.
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await asyncio.sleep(LOCK_POLL_INTERVAL_S)
        yield
    finally:
        os.close(fd)  # closing the only descriptor of the lock file releases the lock


async def _build(
    environment: PythonEnvironment,
    uv: str,
    python_version: str,
    requirements: Requirements,
    kill_grace_s: float,
) -> None:
    started = time.monotonic()
    logger.info(
        "creating Python %s environment %s with %s",
        python_version,
        environment.path,
        requirements.packages or "a requirements file",
    )
    # Left over from an attempt that failed or was stopped before its marker.
    await asyncio.to_thread(shutil.rmtree, environment.path, ignore_errors=True)

    create = [uv, "venv", "--quiet", "--python", python_version, str(environment.path)]
    await _run_uv(create, kill_grace_s)
    install = [uv, "pip", "install", "--quiet", "--python", str(environment.python)]
    if requirements.requirements_text is not None:
        requirements_file = environment.path / "requirements.txt"
        await asyncio.to_thread(requirements_file.write_text, requirements.requirements_text)
        await _run_uv([*install, "-r", str(requirements_file)], kill_grace_s)
    elif requirements.packages:
        await _run_uv([*install, *requirements.packages], kill_grace_s)

    await asyncio.to_thread((environment.path / READY_MARKER).touch)
    logger.info(
        "created Python environment %s in %.1f s", environment.path, time.monotonic() - started
    )


async def _run_uv(argv: Sequence[str], kill_grace_s: float) -> None:
    try:
        outcome = await process.run_process(
            argv, output_limit_bytes=UV_OUTPUT_LIMIT_BYTES, kill_grace_s=kill_grace_s
        )
    except OSError as error:
        raise FatalRunnerError(
            f"PYTHON_COMMAND: cannot start uv at {argv[0]!r}: {error.strerror or error}; "
            "install jwp with its dependencies or set uv_path in the worker's settings"
        ) from None
    if outcome.exit_code == 0:
        return
    message = (outcome.stderr.data or outcome.stdout.data).decode("utf-8", "replace").strip()
    raise FatalRunnerError(
        f"PYTHON_COMMAND: `uv {argv[1]}` failed with exit code {outcome.exit_code}: {message}"
    )
