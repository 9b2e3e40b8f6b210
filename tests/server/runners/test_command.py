"""Tests of the COMMAND runner with real subprocesses."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from jwp.errors import RetryableRunnerError, RunnerArgumentError
from jwp.proto.jobworkerp.runner.command_args_pb2 import CommandArgs
from jwp.proto.jobworkerp.runner.command_result_pb2 import CommandResult
from jwp.server.runners import process
from jwp.server.runners.command import CommandRunner

LIMIT_BYTES = 1000


@pytest.fixture
def runner() -> CommandRunner:
    return CommandRunner(output_limit_bytes=LIMIT_BYTES, kill_grace_s=0.3)


def encode_args(command: str, *args: str, with_memory_monitoring: bool = False) -> bytes:
    message = CommandArgs(command=command, args=args, with_memory_monitoring=with_memory_monitoring)
    return message.SerializeToString()


async def run(runner: CommandRunner, command: str, *args: str, **kwargs: bool) -> CommandResult:
    return CommandResult.FromString(await runner.run(encode_args(command, *args, **kwargs), {}))


def read_pid(path: Path) -> int:
    return int(path.read_text().strip())


async def read_fifo_line(path: Path) -> bytes:
    """Wait for a line written to the FIFO at path and return it."""
    # O_RDWR keeps a writer open (Linux allows it on a FIFO), so the read end
    # gets no end of file before the script writes.
    pipe = os.fdopen(os.open(path, os.O_RDWR | os.O_NONBLOCK), "rb", buffering=0)
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
    try:
        return await reader.readline()
    finally:
        transport.close()


def marker(dropped_bytes: int) -> str:
    return f"\n[jwp: output truncated: {dropped_bytes} more bytes not captured]"


async def test_load_accepts_any_settings(runner: CommandRunner) -> None:
    await runner.load(b"\xff\x00 not a message")

    result = await run(runner, "true")
    assert result.exit_code == 0


async def test_echo_hello_world(runner: CommandRunner) -> None:
    before_ms = time.time_ns() // 1_000_000
    result = await run(runner, "echo", "Hello World")
    after_ms = time.time_ns() // 1_000_000

    assert result.exit_code == 0
    assert result.stdout == "Hello World"
    assert result.stderr == ""
    assert before_ms <= result.started_at <= after_ms
    assert result.HasField("execution_time_ms")
    assert result.execution_time_ms <= after_ms - before_ms
    assert not result.HasField("max_memory_usage_kb")


async def test_only_one_trailing_newline_removed(runner: CommandRunner) -> None:
    result = await run(runner, "printf", "a\\n\\n")

    assert result.stdout == "a\n"


async def test_nonzero_exit_is_a_result(runner: CommandRunner) -> None:
    result = await run(runner, "sh", "-c", "echo partial; echo failed >&2; exit 7")

    assert result.exit_code == 7
    assert result.stdout == "partial"
    assert result.stderr == "failed"


async def test_50_mb_stdout_truncated(runner: CommandRunner) -> None:
    total = 50 * 1024 * 1024
    started = time.monotonic()
    result = await run(runner, "sh", "-c", f"yes Hello | head -c {total}")
    elapsed_s = time.monotonic() - started

    assert result.exit_code == 0
    expected_text = (b"Hello\n" * 200)[:LIMIT_BYTES].decode()
    assert result.stdout == expected_text + marker(total - LIMIT_BYTES)
    assert elapsed_s < 30


async def test_large_stdout_and_stderr_together(runner: CommandRunner) -> None:
    script = (
        "import sys\n"
        "for _ in range(10):\n"
        "    sys.stdout.write('o' * 1048576); sys.stdout.flush()\n"
        "    sys.stderr.write('e' * 1048576); sys.stderr.flush()\n"
    )
    result = await run(runner, sys.executable, "-c", script)

    assert result.exit_code == 0
    assert result.stdout == "o" * LIMIT_BYTES + marker(10 * 1048576 - LIMIT_BYTES)
    assert result.stderr == "e" * LIMIT_BYTES + marker(10 * 1048576 - LIMIT_BYTES)


async def test_truncation_keeps_whole_characters() -> None:
    runner = CommandRunner(output_limit_bytes=5, kill_grace_s=0.3)

    # "€" is 3 bytes in UTF-8, so the limit of 5 bytes cuts it after its first byte.
    result = await run(runner, "printf", "abcd€xyz")

    assert result.stdout == "abcd" + marker(len("€xyz".encode()))


async def test_output_at_limit_not_truncated() -> None:
    runner = CommandRunner(output_limit_bytes=5, kill_grace_s=0.3)

    result = await run(runner, "printf", "12345")

    assert result.stdout == "12345"


async def test_invalid_utf8_replaced(runner: CommandRunner) -> None:
    script = "import sys; sys.stdout.buffer.write(b'a\\xffb\\n'); sys.stderr.buffer.write(b'\\xc3')"

    result = await run(runner, sys.executable, "-c", script)

    assert result.stdout == "a\ufffdb"
    assert result.stderr == "\ufffd"


async def test_background_grandchild_does_not_hang(
    runner: CommandRunner, tmp_path: Path, is_running: Callable[[int], bool]
) -> None:
    pid_file = tmp_path / "grandchild.pid"

    started = time.monotonic()
    result = await run(runner, "sh", "-c", f"sleep 30 & echo $! > {pid_file}; echo started")
    elapsed_s = time.monotonic() - started

    assert result.stdout == "started"
    assert elapsed_s < process.DRAIN_WINDOW_S + 1.5
    await process.wait_for_cleanups()
    assert not is_running(read_pid(pid_file))


async def test_timeout_stops_process_group(
    runner: CommandRunner,
    tmp_path: Path,
    is_running: Callable[[int], bool],
    assert_reaped: Callable[[int], None],
) -> None:
    main_pid_file = tmp_path / "main.pid"
    child_pid_file = tmp_path / "child.pid"
    script = f"echo $$ > {main_pid_file}; sleep 30 & echo $! > {child_pid_file}; sleep 30"

    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(runner.run(encode_args("sh", "-c", script), {}), timeout=0.5)
    elapsed_s = time.monotonic() - started

    assert elapsed_s < 1.5
    assert_reaped(read_pid(main_pid_file))
    assert not is_running(read_pid(child_pid_file))


async def test_cancel_stops_process_group(
    runner: CommandRunner,
    tmp_path: Path,
    is_running: Callable[[int], bool],
    assert_reaped: Callable[[int], None],
) -> None:
    main_pid_file = tmp_path / "main.pid"
    child_pid_file = tmp_path / "child.pid"
    ready_fifo = tmp_path / "ready"
    os.mkfifo(ready_fifo)
    script = (
        f"echo $$ > {main_pid_file}; sleep 30 & echo $! > {child_pid_file}; "
        f"echo ready > {ready_fifo}; wait"
    )
    ready_line = asyncio.create_task(read_fifo_line(ready_fifo))
    task = asyncio.create_task(runner.run(encode_args("sh", "-c", script), {}))
    assert await ready_line == b"ready\n"

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert_reaped(read_pid(main_pid_file))
    assert not is_running(read_pid(child_pid_file))


async def test_missing_command_is_retryable(runner: CommandRunner) -> None:
    with pytest.raises(RetryableRunnerError) as caught:
        await run(runner, "nosuchcmd")

    assert str(caught.value).startswith(
        "cannot start command 'nosuchcmd': No such file or directory"
    )


async def test_not_executable_is_retryable(runner: CommandRunner, tmp_path: Path) -> None:
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)

    with pytest.raises(RetryableRunnerError) as caught:
        await run(runner, str(script))

    assert str(caught.value) == f"cannot start command '{script}': Permission denied"


async def test_undecodable_args_rejected(runner: CommandRunner) -> None:
    # Field 1 announces 5 bytes of string but only 2 follow.
    with pytest.raises(RunnerArgumentError, match="invalid COMMAND args"):
        await runner.run(b"\x0a\x05ab", {})


async def test_empty_command_rejected(runner: CommandRunner) -> None:
    with pytest.raises(RunnerArgumentError, match="empty command"):
        await runner.run(encode_args("", "x"), {})


async def test_nul_in_argument_rejected(runner: CommandRunner) -> None:
    with pytest.raises(RunnerArgumentError, match="NUL character"):
        await runner.run(encode_args("echo", "a\0b"), {})


async def test_memory_monitoring_sets_field(runner: CommandRunner) -> None:
    result = await run(runner, "sleep", "0.3", with_memory_monitoring=True)

    assert result.exit_code == 0
    assert result.HasField("max_memory_usage_kb")
    assert 0 < result.max_memory_usage_kb < 1024 * 1024


async def test_stream_yields_lines_as_printed(runner: CommandRunner, tmp_path: Path) -> None:
    # Each line is printed only after the test has acknowledged the one before,
    # so receiving all three proves that every line arrived before the next was printed.
    script = (
        "for i in 1 2 3; do echo line$i; "
        f'while [ ! -e "{tmp_path}/ack$i" ]; do sleep 0.01; done; done; '
        "echo warning >&2; exit 3"
    )
    results: list[CommandResult] = []

    async with asyncio.timeout(20):
        async for chunk in runner.run_stream(encode_args("sh", "-c", script), {}):
            result = CommandResult.FromString(chunk)
            results.append(result)
            if result.HasField("stdout"):
                (tmp_path / f"ack{result.stdout.removeprefix('line')}").touch()

    stdout_lines = [result.stdout for result in results if result.HasField("stdout")]
    stderr_lines = [result.stderr for result in results if result.HasField("stderr")]
    assert stdout_lines == ["line1", "line2", "line3"]
    assert stderr_lines == ["warning"]
    assert all(not result.HasField("exit_code") for result in results[:-1])
    final = results[-1]
    assert final.exit_code == 3
    assert final.HasField("execution_time_ms")
    assert final.started_at > 0
    assert not final.HasField("stdout")
    assert not final.HasField("stderr")


async def test_stream_replaces_invalid_utf8(runner: CommandRunner) -> None:
    script = "import sys; sys.stdout.buffer.write(b'a\\xffb\\nlast')"

    chunks = [
        chunk async for chunk in runner.run_stream(encode_args(sys.executable, "-c", script), {})
    ]

    assert [CommandResult.FromString(chunk).stdout for chunk in chunks[:-1]] == ["a\ufffdb", "last"]


async def test_stream_close_stops_process_group(
    runner: CommandRunner,
    tmp_path: Path,
    is_running: Callable[[int], bool],
    assert_reaped: Callable[[int], None],
) -> None:
    main_pid_file = tmp_path / "main.pid"
    child_pid_file = tmp_path / "child.pid"
    script = f"echo $$ > {main_pid_file}; sleep 30 & echo $! > {child_pid_file}; echo ready; wait"
    stream = runner.run_stream(encode_args("sh", "-c", script), {})

    first = CommandResult.FromString(await anext(stream))
    await stream.aclose()  # type: ignore[attr-defined]  # run_stream is typed as AsyncIterator

    assert first.stdout == "ready"
    assert_reaped(read_pid(main_pid_file))
    assert not is_running(read_pid(child_pid_file))


async def test_stream_cancel_stops_process_group(
    runner: CommandRunner,
    tmp_path: Path,
    is_running: Callable[[int], bool],
    assert_reaped: Callable[[int], None],
) -> None:
    main_pid_file = tmp_path / "main.pid"
    child_pid_file = tmp_path / "child.pid"
    script = f"echo $$ > {main_pid_file}; sleep 30 & echo $! > {child_pid_file}; echo ready; wait"
    ready = asyncio.Event()

    async def consume() -> None:
        async for _ in runner.run_stream(encode_args("sh", "-c", script), {}):
            ready.set()

    task = asyncio.create_task(consume())
    await ready.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert_reaped(read_pid(main_pid_file))
    assert not is_running(read_pid(child_pid_file))


async def test_stream_missing_command_is_retryable(runner: CommandRunner) -> None:
    with pytest.raises(RetryableRunnerError, match="cannot start command 'nosuchcmd'"):
        async for _ in runner.run_stream(encode_args("nosuchcmd"), {}):
            pass


async def test_stream_empty_command_rejected(runner: CommandRunner) -> None:
    with pytest.raises(RunnerArgumentError, match="empty command"):
        async for _ in runner.run_stream(encode_args(""), {}):
            pass
