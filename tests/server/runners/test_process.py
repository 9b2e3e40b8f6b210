"""Tests of jwp.server.runners.process with real subprocesses."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from jwp.server.runners import process
from jwp.server.runners.process import OutputStream, run_process

GRACE_S = 0.3


def read_pid(path: Path) -> int:
    return int(path.read_text().strip())


def open_fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


async def run(argv: list[str], **kwargs: object) -> process.ProcessResult:
    options: dict[str, object] = {"output_limit_bytes": 1 << 20, "kill_grace_s": GRACE_S}
    options.update(kwargs)
    return await run_process(argv, **options)  # type: ignore[arg-type]


class LineRecorder:
    """Collects on_line calls and sets an event when a given line arrives."""

    def __init__(self, expected: bytes = b"ready") -> None:
        self.lines: list[tuple[OutputStream, bytes]] = []
        self.expected = expected
        self.seen = asyncio.Event()

    def __call__(self, stream: OutputStream, line: bytes) -> None:
        self.lines.append((stream, line))
        if line == self.expected:
            self.seen.set()


async def test_echo_captures_stdout() -> None:
    result = await run(["echo", "Hello World"])

    assert result.exit_code == 0
    assert result.stdout == process.CapturedOutput(b"Hello World\n", 0)
    assert result.stderr == process.CapturedOutput(b"", 0)
    assert result.max_memory_usage_kb is None


async def test_start_time_and_duration() -> None:
    before_ms = time.time_ns() // 1_000_000
    result = await run(["true"])
    after_ms = time.time_ns() // 1_000_000

    assert before_ms <= result.started_at_ms <= after_ms
    assert 0 <= result.execution_time_ms <= after_ms - before_ms


async def test_nonzero_exit_code() -> None:
    result = await run(["sh", "-c", "echo oops >&2; exit 3"])

    assert result.exit_code == 3
    assert result.stderr.data == b"oops\n"


async def test_killed_by_signal_gives_negative_code() -> None:
    result = await run(["sh", "-c", "kill -9 $$"])

    assert result.exit_code == -9


async def test_stdin_is_dev_null() -> None:
    result = await run(["cat"])

    assert result.exit_code == 0
    assert result.stdout.data == b""


async def test_env_and_cwd(tmp_path: Path) -> None:
    result = await run(
        ["sh", "-c", 'echo "$JWP_TEST_VALUE"; pwd'],
        env={"JWP_TEST_VALUE": "from-env", "PATH": os.environ["PATH"]},
        cwd=tmp_path,
    )

    assert result.stdout.data == f"from-env\n{tmp_path}\n".encode()


async def test_50_mb_stdout_capped() -> None:
    total = 50 * 1024 * 1024
    started = time.monotonic()
    result = await run(["sh", "-c", f"yes Hello | head -c {total}"], output_limit_bytes=1000)
    elapsed_s = time.monotonic() - started

    assert result.exit_code == 0
    assert result.stdout.data == (b"Hello\n" * 200)[:1000]
    assert result.stdout.dropped_bytes == total - 1000
    assert elapsed_s < 30


async def test_large_stdout_and_stderr_together() -> None:
    # Writes alternate between the pipes in chunks larger than a pipe buffer,
    # so a reader that drained one pipe at a time would deadlock.
    script = (
        "import sys\n"
        "for _ in range(20):\n"
        "    sys.stdout.buffer.write(b'o' * 1048576); sys.stdout.flush()\n"
        "    sys.stderr.buffer.write(b'e' * 1048576); sys.stderr.flush()\n"
    )
    result = await run([sys.executable, "-c", script], output_limit_bytes=100)

    assert result.exit_code == 0
    assert result.stdout == process.CapturedOutput(b"o" * 100, 20 * 1048576 - 100)
    assert result.stderr == process.CapturedOutput(b"e" * 100, 20 * 1048576 - 100)


async def test_output_within_limit_not_dropped() -> None:
    result = await run(["printf", "12345"], output_limit_bytes=5)

    assert result.stdout == process.CapturedOutput(b"12345", 0)


async def test_zero_limit_captures_nothing() -> None:
    result = await run(["echo", "Hello"], output_limit_bytes=0)

    assert result.stdout == process.CapturedOutput(b"", 6)


async def test_on_line_receives_lines_in_order() -> None:
    recorder = LineRecorder()
    result = await run(
        ["sh", "-c", "echo one; echo two; printf 'three\\n\\nlast'; echo err >&2"],
        on_line=recorder,
    )

    assert result.exit_code == 0
    stdout_lines = [line for stream, line in recorder.lines if stream is OutputStream.STDOUT]
    stderr_lines = [line for stream, line in recorder.lines if stream is OutputStream.STDERR]
    assert stdout_lines == [b"one", b"two", b"three", b"", b"last"]
    assert stderr_lines == [b"err"]


async def test_on_line_splits_long_line() -> None:
    recorder = LineRecorder()
    await run(["printf", "abcdefgh\\nxyz\\nij"], on_line=recorder, max_line_bytes=3)

    assert [line for _, line in recorder.lines] == [b"abc", b"def", b"gh", b"xyz", b"ij"]


async def test_on_line_error_stops_process(
    tmp_path: Path, assert_reaped: Callable[[int], None]
) -> None:
    pid_file = tmp_path / "main.pid"

    def reject(stream: OutputStream, line: bytes) -> None:
        raise RuntimeError(f"rejected {line!r}")

    started = time.monotonic()
    with pytest.raises(RuntimeError, match="rejected b'boom'"):
        await run(["sh", "-c", f"echo $$ > {pid_file}; echo boom; sleep 30"], on_line=reject)

    assert time.monotonic() - started < 5
    assert_reaped(read_pid(pid_file))


async def test_invalid_utf8_kept_as_bytes() -> None:
    result = await run([sys.executable, "-c", "import sys; sys.stdout.buffer.write(b'a\\xffb\\n')"])

    assert result.stdout.data == b"a\xffb\n"


async def test_background_grandchild_does_not_hang(
    tmp_path: Path, is_running: Callable[[int], bool]
) -> None:
    pid_file = tmp_path / "grandchild.pid"

    started = time.monotonic()
    result = await run(["sh", "-c", f"sleep 30 & echo $! > {pid_file}; echo started"])
    elapsed_s = time.monotonic() - started

    assert result.exit_code == 0
    assert result.stdout.data == b"started\n"
    assert elapsed_s < process.DRAIN_WINDOW_S + 1.5
    await process.wait_for_cleanups()
    assert not is_running(read_pid(pid_file))


async def test_timeout_stops_process_group(
    tmp_path: Path, is_running: Callable[[int], bool], assert_reaped: Callable[[int], None]
) -> None:
    main_pid_file = tmp_path / "main.pid"
    child_pid_file = tmp_path / "child.pid"
    script = (
        f"echo $$ > {main_pid_file}; sleep 30 & echo $! > {child_pid_file}; echo ready; sleep 30"
    )
    recorder = LineRecorder()

    started = time.monotonic()
    with pytest.raises(TimeoutError):
        # A long grace shows that processes ending on SIGTERM are not waited out.
        await asyncio.wait_for(
            run(["sh", "-c", script], on_line=recorder, kill_grace_s=10), timeout=0.5
        )
    elapsed_s = time.monotonic() - started

    assert recorder.seen.is_set(), "the script did not start within the timeout"
    assert elapsed_s < 1.5
    assert_reaped(read_pid(main_pid_file))
    assert not is_running(read_pid(child_pid_file))


async def test_cancel_stops_process_group(
    tmp_path: Path, is_running: Callable[[int], bool], assert_reaped: Callable[[int], None]
) -> None:
    main_pid_file = tmp_path / "main.pid"
    child_pid_file = tmp_path / "child.pid"
    script = f"echo $$ > {main_pid_file}; sleep 30 & echo $! > {child_pid_file}; echo ready; wait"
    recorder = LineRecorder()
    task = asyncio.create_task(run(["sh", "-c", script], on_line=recorder))
    await recorder.seen.wait()

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert_reaped(read_pid(main_pid_file))
    assert not is_running(read_pid(child_pid_file))


async def test_sigterm_ignored_gets_sigkill(
    tmp_path: Path,
    is_running: Callable[[int], bool],
    assert_reaped: Callable[[int], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    main_pid_file = tmp_path / "main.pid"
    child_pid_file = tmp_path / "child.pid"
    script = (
        f"trap '' TERM; echo $$ > {main_pid_file}; "
        f"sleep 30 & echo $! > {child_pid_file}; echo ready; wait"
    )
    recorder = LineRecorder()
    task = asyncio.create_task(run(["sh", "-c", script], on_line=recorder))
    await recorder.seen.wait()

    caplog.set_level(logging.WARNING, logger=process.__name__)
    cancelled_at = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    elapsed_s = time.monotonic() - cancelled_at

    assert elapsed_s >= GRACE_S
    assert elapsed_s < GRACE_S + 2
    assert "sending SIGKILL" in caplog.text
    assert_reaped(read_pid(main_pid_file))
    assert not is_running(read_pid(child_pid_file))


async def test_spawn_failure_raises_os_error() -> None:
    fds_before = open_fd_count()

    with pytest.raises(FileNotFoundError):
        await run(["jwp-test-no-such-command"])
    await asyncio.sleep(0)  # the closed pipe transports release their files on the next loop turn

    assert open_fd_count() == fds_before


async def test_not_executable_raises_permission_error(tmp_path: Path) -> None:
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)

    with pytest.raises(PermissionError):
        await run([str(script)])


async def test_empty_argv_rejected() -> None:
    with pytest.raises(ValueError, match="argv is empty"):
        await run([])


async def test_no_file_descriptors_leak() -> None:
    fds_before = open_fd_count()

    for _ in range(5):
        await run(["sh", "-c", "echo out; echo err >&2"])

    assert open_fd_count() == fds_before


async def test_memory_monitoring_reports_peak_rss() -> None:
    # The child keeps 64 MiB in use for half a second, which spans several
    # sampling intervals, because a peak reached just before exit can be missed.
    script = "import time; data = b'x' * (64 * 1024 * 1024); time.sleep(0.5)"

    result = await run([sys.executable, "-c", script], monitor_memory=True)

    assert result.exit_code == 0
    assert result.max_memory_usage_kb is not None
    assert result.max_memory_usage_kb >= 64 * 1024
    assert result.max_memory_usage_kb < 1024 * 1024


async def test_wait_for_cleanups_without_pending() -> None:
    await asyncio.wait_for(process.wait_for_cleanups(), timeout=1)


async def test_fallback_without_pidfd(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, assert_reaped: Callable[[int], None]
) -> None:
    monkeypatch.setattr(process, "_pidfd_supported", lambda: False)
    result = await run(["sh", "-c", "echo out; exit 3"])
    assert result.exit_code == 3
    assert result.stdout.data == b"out\n"

    pid_file = tmp_path / "main.pid"
    recorder = LineRecorder()
    task = asyncio.create_task(
        run(["sh", "-c", f"echo $$ > {pid_file}; echo ready; sleep 30"], on_line=recorder)
    )
    await recorder.seen.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert_reaped(read_pid(pid_file))
