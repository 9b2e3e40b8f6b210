"""Run a subprocess for a job: capture its output, stop its process group, never stall.

`run_process` starts argv without a shell, in a new session (so it leads its
own process group) with stdin from /dev/null. Both output pipes are read by
event-loop protocols from the start and never paused, so a full pipe cannot
stop the child. Each captured stream keeps its first `output_limit_bytes` bytes, and
the rest is read and counted but discarded. An optional callback receives
every output line as it arrives.

When the awaiting task is cancelled (a job timeout or a cancel request), the
whole process group gets SIGTERM, then SIGKILL after a grace period, and
the main process is reaped before `CancelledError` propagates. Where Linux
offers a pidfd, the event loop learns of the exit from it, without the
thread per process that asyncio's child watcher starts. After a normal exit,
processes left in the group (background jobs of a shell script, say) are
stopped in a tracked background task, and `wait_for_cleanups` waits for
those tasks.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol

logger = logging.getLogger(__name__)

# Output that the main process wrote before it exited is already in the pipe
# and is read within one event-loop turn, so this window only has to cover a
# busy loop. It ends the wait when a background process still keeps a pipe
# open, which would otherwise delay the result until that process exits.
DRAIN_WINDOW_S = 0.5

# A line without a newline is delivered in pieces of this size, so a command
# that writes no newlines cannot grow the line buffer without limit.
MAX_LINE_BYTES = 1024 * 1024

# VmHWM is the peak the kernel keeps, so sampling only has to catch its last
# value before exit, and a peak reached within one interval before exit is
# missed. The interval starts short and doubles up to the maximum, because a
# short command maps most of its memory in its first milliseconds.
MEMORY_SAMPLE_FIRST_INTERVAL_S = 0.005
MEMORY_SAMPLE_MAX_INTERVAL_S = 0.1

# How often a stopping process group is checked for live members. No event
# reports that a group is empty, so it is polled.
GROUP_POLL_INTERVAL_S = 0.05

# How long to wait for a process group to vanish after SIGKILL before giving up
# with a warning. Only a process stuck in the kernel (state D) outlives that.
KILL_WAIT_S = 5.0


class OutputStream(enum.Enum):
    """One of the two output pipes of a process."""

    STDOUT = "stdout"
    STDERR = "stderr"


LineCallback = Callable[[OutputStream, bytes], None]
"""Receives each output line without its newline, in the order read from the pipes.

It runs on the event loop inside the pipe reader, so it must not block. An
exception it raises stops the process group and is raised by `run_process`.
"""


@dataclass(frozen=True)
class CapturedOutput:
    """The captured start of one output stream and the count of bytes past the limit."""

    data: bytes
    dropped_bytes: int


@dataclass(frozen=True)
class ProcessResult:
    """Outcome of a process that ran to its exit.

    Attributes:
        exit_code: The exit status, or `-N` when signal N killed the process.
        stdout: Captured standard output.
        stderr: Captured standard error.
        started_at_ms: Wall-clock start time, in milliseconds since the Unix epoch.
        execution_time_ms: Time from the start until the main process exited.
        max_memory_usage_kb: Peak resident set size (VmHWM) of the main process in kB,
            or None when monitoring was off or no sample could be read.
    """

    exit_code: int
    stdout: CapturedOutput
    stderr: CapturedOutput
    started_at_ms: int
    execution_time_ms: int
    max_memory_usage_kb: int | None


async def run_process(
    argv: Sequence[str],
    *,
    output_limit_bytes: int,
    kill_grace_s: float,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    on_line: LineCallback | None = None,
    monitor_memory: bool = False,
    max_line_bytes: int = MAX_LINE_BYTES,
) -> ProcessResult:
    """Run argv to its exit and return its exit code and captured output.

    Args:
        argv: The program and its arguments. The program is looked up on PATH
            unless it contains a slash.
        output_limit_bytes: Bytes kept of each stream. 0 captures nothing, which
            suits callers that only want `on_line`.
        kill_grace_s: Seconds between SIGTERM and SIGKILL when the process group
            is stopped.
        env: The environment of the process. None inherits this process's environment.
        cwd: The working directory of the process. None keeps this process's directory.
        on_line: Receives every output line as it arrives.
        monitor_memory: Whether to sample the peak RSS of the main process.
        max_line_bytes: Lines longer than this reach `on_line` in pieces.

    Raises:
        OSError: The process could not be started (not found, not executable,
            no file descriptors left).
        asyncio.CancelledError: The task was cancelled. The process group has
            been stopped and the main process reaped by then.
    """
    if not argv:
        raise ValueError("argv is empty; pass at least the program to run")
    loop = asyncio.get_running_loop()
    line_failure: asyncio.Future[None] = loop.create_future()
    collectors = tuple(
        _OutputCollector(stream, output_limit_bytes, on_line, max_line_bytes, line_failure)
        for stream in (OutputStream.STDOUT, OutputStream.STDERR)
    )

    started_at_ms = time.time_ns() // 1_000_000
    started = time.monotonic()
    proc = await _spawn(argv, env, cwd, collectors)
    logger.debug("started process %d: %s", proc.pid, argv[0])

    # Nothing is awaited between the spawn and this block, so a cancellation
    # always finds the process covered by the cleanup below.
    try:
        exit_code, max_memory_usage_kb = await _wait_for_exit(proc, line_failure, monitor_memory)
        execution_time_ms = int((time.monotonic() - started) * 1000)
        await _drain(collectors)
        if line_failure.done():
            line_failure.result()
    except BaseException:
        await _abort(proc, collectors, kill_grace_s)
        raise

    logger.debug("process %d exited with %d after %d ms", proc.pid, exit_code, execution_time_ms)
    _stop_leftover_group(proc.pid, kill_grace_s)
    return ProcessResult(
        exit_code=exit_code,
        stdout=collectors[0].captured(),
        stderr=collectors[1].captured(),
        started_at_ms=started_at_ms,
        execution_time_ms=execution_time_ms,
        max_memory_usage_kb=max_memory_usage_kb,
    )


async def wait_for_cleanups() -> None:
    """Wait until every process-group cleanup started on the running event loop has finished.

    Call it before the event loop closes (server shutdown, test teardown), so
    no process of a finished job keeps running and no cleanup task is
    destroyed while pending.
    """
    loop = asyncio.get_running_loop()
    while pending := [task for task in _cleanups if task.get_loop() is loop]:
        await asyncio.wait(pending)


class _OutputCollector(asyncio.Protocol):
    """Reads one output pipe: keeps the first bytes, counts the rest, splits lines."""

    def __init__(
        self,
        stream: OutputStream,
        limit_bytes: int,
        on_line: LineCallback | None,
        max_line_bytes: int,
        line_failure: asyncio.Future[None],
    ) -> None:
        self.stream = stream
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._line_failure = line_failure
        self._limit_bytes = limit_bytes
        self._on_line = on_line
        self._max_line_bytes = max_line_bytes
        self._captured = bytearray()
        self._dropped_bytes = 0
        self._partial_line = bytearray()
        self._transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        room = max(self._limit_bytes - len(self._captured), 0)
        self._captured += data[:room]
        self._dropped_bytes += max(len(data) - room, 0)
        if self._on_line is not None:
            self._split_lines(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._on_line is not None and self._partial_line:
            self._deliver(bytes(self._partial_line))
        self._partial_line.clear()
        if not self.closed.done():
            self.closed.set_result(None)

    async def connect_pipe(self, read_fd: int) -> None:
        """Start reading the pipe end read_fd on the event loop, which takes ownership of it."""
        pipe = os.fdopen(read_fd, "rb", buffering=0)
        await asyncio.get_running_loop().connect_read_pipe(lambda: self, pipe)

    def stop_reading(self) -> None:
        """Close the pipe; `closed` resolves once the transport has let go of it."""
        if self._transport is not None:
            self._transport.close()

    def captured(self) -> CapturedOutput:
        return CapturedOutput(bytes(self._captured), self._dropped_bytes)

    def _split_lines(self, data: bytes) -> None:
        buffer = self._partial_line
        buffer += data
        start = 0
        limit = self._max_line_bytes
        while True:
            newline = buffer.find(b"\n", start, start + limit + 1)
            if newline != -1:
                self._deliver(bytes(buffer[start:newline]))
                start = newline + 1
            elif len(buffer) - start > limit:
                # The line is known to be longer than the limit only once more
                # bytes than that have arrived without a newline.
                self._deliver(bytes(buffer[start : start + limit]))
                start += limit
            else:
                break
        del buffer[:start]

    def _deliver(self, line: bytes) -> None:
        if self._on_line is None:
            return
        try:
            self._on_line(self.stream, line)
        except Exception as exc:
            # Later lines are dropped, and run_process raises this error after
            # stopping the process group.
            self._on_line = None
            if not self._line_failure.done():
                self._line_failure.set_exception(exc)
                # Marks the error as retrieved, so asyncio does not log it when
                # the job stops for another reason before run_process raises it.
                self._line_failure.exception()


class _Child(Protocol):
    """A started process: its pid, and a wait for its exit code."""

    @property
    def pid(self) -> int: ...

    async def wait(self) -> int: ...


class _PidfdChild:
    """A child process whose exit the event loop learns from a pidfd.

    asyncio's default child watcher in Python 3.11 (ThreadedChildWatcher)
    starts a thread per process to wait for its exit. In py-spy profiles of
    `python -m bench run --only command` that was about a third of the cost
    of spawning `true`. A pidfd becomes readable when the process exits, so the
    event loop watches it like a socket and reaps the process without a thread.
    """

    def __init__(self, popen: subprocess.Popen[bytes], pidfd: int) -> None:
        self._popen = popen
        self._pidfd = pidfd
        self._loop = asyncio.get_running_loop()
        self._exited: asyncio.Future[int] = self._loop.create_future()
        self._loop.add_reader(pidfd, self._on_exit)

    @property
    def pid(self) -> int:
        return self._popen.pid

    async def wait(self) -> int:
        """Return the exit status, or `-N` when signal N killed the process."""
        # Shielded, because the callers cancel their waits (a job timeout)
        # and wait again later for the same exit.
        return await asyncio.shield(self._exited)

    def _on_exit(self) -> None:
        # poll() reaps the process and records its status on the Popen, which
        # then does not warn, when collected, that the process still runs.
        exit_code = self._popen.poll()
        if exit_code is None:
            return
        self._loop.remove_reader(self._pidfd)
        os.close(self._pidfd)
        if not self._exited.done():
            self._exited.set_result(exit_code)


@cache
def _pidfd_supported() -> bool:
    """Return whether this system has pidfd_open (Linux 5.3 and later)."""
    if not hasattr(os, "pidfd_open"):
        return False
    try:
        os.close(os.pidfd_open(os.getpid()))
    except OSError:
        return False
    return True


async def _spawn(
    argv: Sequence[str],
    env: Mapping[str, str] | None,
    cwd: str | os.PathLike[str] | None,
    collectors: Sequence[_OutputCollector],
) -> _Child:
    """Connect a pipe to each collector, then start the process writing into them.

    The pipes are ours rather than asyncio's, because asyncio's `Process.wait()`
    (Python 3.11) returns only once its pipes have closed, which a background
    grandchild can postpone without limit.
    """
    write_fds: list[int] = []
    try:
        for collector in collectors:
            read_fd, write_fd = os.pipe()
            write_fds.append(write_fd)
            await collector.connect_pipe(read_fd)
        if not _pidfd_supported():
            return await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=write_fds[0],
                stderr=write_fds[1],
                env=env,
                cwd=cwd,
                start_new_session=True,
            )
        return _start_pidfd_child(argv, env, cwd, write_fds)
    except BaseException:
        for collector in collectors:
            collector.stop_reading()
        raise
    finally:
        # The child has its own copies, and ours would keep the pipes from ever
        # reaching end of file.
        for write_fd in write_fds:
            os.close(write_fd)


def _start_pidfd_child(
    argv: Sequence[str],
    env: Mapping[str, str] | None,
    cwd: str | os.PathLike[str] | None,
    write_fds: Sequence[int],
) -> _PidfdChild:
    """Start argv in a new session, writing into write_fds, and watch its exit by pidfd.

    Popen returns once the child has called exec(), as in asyncio's own
    subprocess_exec, so this short block on the event loop is the same.
    """
    popen = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=write_fds[0],
        stderr=write_fds[1],
        env=env,
        cwd=cwd,
        start_new_session=True,
    )
    # Nothing else reaps this pid, so the pidfd refers to it even when the
    # process has already exited: it stays a zombie until poll() reaps it.
    try:
        pidfd = os.pidfd_open(popen.pid)
    except OSError:
        # No file descriptor left: stop the process rather than leave it
        # running unwatched. It has only just started, so the wait is short.
        _signal_group(popen.pid, signal.SIGKILL)
        popen.wait()
        raise
    return _PidfdChild(popen, pidfd)


async def _wait_for_exit(
    proc: _Child,
    line_failure: asyncio.Future[None],
    monitor_memory: bool,
) -> tuple[int, int | None]:
    """Wait for the main process to exit and return its exit code and peak RSS in kB.

    Raises the error of the line callback as soon as the callback fails.
    """
    exit_task = asyncio.ensure_future(proc.wait())
    waiters: set[asyncio.Future[Any]] = {exit_task, line_failure}
    sample_interval_s = MEMORY_SAMPLE_FIRST_INTERVAL_S if monitor_memory else None
    max_memory_usage_kb: int | None = None
    try:
        while not (exit_task.done() or line_failure.done()):
            # 0 kB is read before the program is mapped, so it is no measurement.
            if sample_interval_s is not None and (sample_kb := _read_peak_rss_kb(proc.pid)):
                max_memory_usage_kb = max(sample_kb, max_memory_usage_kb or 0)
            await asyncio.wait(
                waiters,
                timeout=sample_interval_s,
                return_when=asyncio.FIRST_COMPLETED,
            )
            if sample_interval_s is not None:
                sample_interval_s = min(sample_interval_s * 2, MEMORY_SAMPLE_MAX_INTERVAL_S)
    finally:
        exit_task.cancel()

    if line_failure.done():
        line_failure.result()
    return exit_task.result(), max_memory_usage_kb


async def _drain(collectors: Sequence[_OutputCollector]) -> None:
    """Read what is left in the pipes for at most DRAIN_WINDOW_S, then close them."""
    open_pipes = [collector.closed for collector in collectors if not collector.closed.done()]
    if open_pipes:
        await asyncio.wait(open_pipes, timeout=DRAIN_WINDOW_S)
    for collector in collectors:
        collector.stop_reading()
    await asyncio.gather(*(collector.closed for collector in collectors))


async def _abort(
    proc: _Child,
    collectors: Sequence[_OutputCollector],
    kill_grace_s: float,
) -> None:
    """Stop the process group and reap the main process before the caller's error propagates.

    The work runs in a tracked task behind `shield`, so a second cancellation
    only stops the waiting here and the cleanup still finishes.
    """
    cleanup = _track(asyncio.create_task(_stop_process(proc, collectors, kill_grace_s)))
    await asyncio.shield(cleanup)


async def _stop_process(
    proc: _Child,
    collectors: Sequence[_OutputCollector],
    kill_grace_s: float,
) -> None:
    # The pipes stay open until the group has stopped, so a process that
    # writes while shutting down gets no SIGPIPE.
    logger.debug("stopping process group %d", proc.pid)
    await _terminate_group(proc.pid, kill_grace_s)
    await proc.wait()
    for collector in collectors:
        collector.stop_reading()
    await asyncio.gather(*(collector.closed for collector in collectors))


def _stop_leftover_group(pgid: int, kill_grace_s: float) -> None:
    """Start stopping what is left of a process group whose leader has exited."""
    if not _signal_group(pgid, 0):
        return
    logger.debug("process group %d outlived its leader; stopping it", pgid)
    _track(asyncio.create_task(_terminate_group(pgid, kill_grace_s)))


async def _terminate_group(pgid: int, kill_grace_s: float) -> None:
    """Send SIGTERM to the group, then SIGKILL if it is still running after the grace."""
    if not _signal_group(pgid, signal.SIGTERM):
        return
    if await _wait_until_group_stops(pgid, kill_grace_s):
        return

    logger.warning(
        "process group %d still running %.1f s after SIGTERM; sending SIGKILL", pgid, kill_grace_s
    )
    if not _signal_group(pgid, signal.SIGKILL):
        return
    if not await _wait_until_group_stops(pgid, KILL_WAIT_S):
        logger.warning("process group %d still running %.1f s after SIGKILL", pgid, KILL_WAIT_S)


async def _wait_until_group_stops(pgid: int, timeout_s: float) -> bool:
    """Return whether the group had no live member before timeout_s ran out."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while await _group_has_live_members(pgid):
        remaining_s = deadline - loop.time()
        if remaining_s <= 0:
            return False
        await asyncio.sleep(min(GROUP_POLL_INTERVAL_S, remaining_s))
    return True


async def _group_has_live_members(pgid: int) -> bool:
    if not _signal_group(pgid, 0):
        return False
    # kill() also finds zombies, which stay until their parent reaps them. An
    # orphan's parent is PID 1, and some container init processes never reap,
    # so the process table decides whether a member is still running.
    return await asyncio.to_thread(_scan_for_running_members, pgid)


def _scan_for_running_members(pgid: int) -> bool:
    """Return whether /proc lists a process of group pgid that has not exited.

    Without a readable /proc this returns True, so callers fall back on kill().
    """
    try:
        pids = [name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return True
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_bytes()
        except OSError:
            continue  # the process exited after the listing
        # The command name in brackets may contain spaces; the fields after it
        # are state, ppid and pgrp.
        fields = stat[stat.rfind(b")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            return True
    return False


def _signal_group(pgid: int, signum: int) -> bool:
    """Send signum to the process group and return whether the group exists.

    NOTE: the group id is the leader's pid, which the kernel does not reuse while
    the group has members. A new session could take it over only after the
    group has emptied and the pid counter has wrapped around within one poll.
    """
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        return False
    except PermissionError:
        logger.warning("not permitted to signal process group %d; leaving it running", pgid)
        return False
    return True


def _read_peak_rss_kb(pid: int) -> int | None:
    """Return VmHWM of the process in kB, or None once it has exited.

    A read of /proc is served from kernel memory and never waits on a disk,
    so it is safe on the event loop.
    """
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None  # a zombie has no memory fields


_cleanups: set[asyncio.Task[None]] = set()


def _track(task: asyncio.Task[None]) -> asyncio.Task[None]:
    _cleanups.add(task)
    task.add_done_callback(_on_cleanup_done)
    return task


def _on_cleanup_done(task: asyncio.Task[None]) -> None:
    _cleanups.discard(task)
    if not task.cancelled() and (exc := task.exception()) is not None:
        logger.error("stopping a process group failed", exc_info=exc)
