"""The COMMAND runner: run a program with arguments, without a shell.

The result is a `CommandResult` with the exit code and the captured stdout
and stderr. A non-zero exit code is a normal result, not a failure. In
streaming mode each output line becomes its own `CommandResult`, and a last
one carries the exit code.
"""

from __future__ import annotations

import asyncio
import codecs
import logging
from collections.abc import AsyncIterator, Mapping

from google.protobuf.message import DecodeError

from jwp.errors import RetryableRunnerError, RunnerArgumentError
from jwp.proto.jobworkerp.runner.command_args_pb2 import CommandArgs
from jwp.proto.jobworkerp.runner.command_result_pb2 import CommandResult
from jwp.server.runners import process
from jwp.server.runners.base import Runner

logger = logging.getLogger(__name__)

TRUNCATION_MARKER = "\n[jwp: output truncated: {dropped_bytes} more bytes not captured]"


class CommandRunner(Runner):
    """Runs `CommandArgs.command` with `CommandArgs.args` in its own process group.

    Args:
        output_limit_bytes: Bytes kept of each of stdout and stderr in a result.
        kill_grace_s: Seconds between SIGTERM and SIGKILL when a job is stopped.
    """

    def __init__(self, *, output_limit_bytes: int, kill_grace_s: float) -> None:
        self._output_limit_bytes = output_limit_bytes
        self._kill_grace_s = kill_grace_s

    async def load(self, settings: bytes) -> None:
        """Accept any settings, because COMMAND has no settings message."""

    async def run(self, args: bytes, metadata: Mapping[str, str]) -> bytes:
        """Run the command to its exit and return an encoded `CommandResult`.

        Raises:
            RunnerArgumentError: args do not decode or name no command.
            RetryableRunnerError: The command could not be started.
        """
        command_args = _parse_args(args)
        outcome = await self._run_process(command_args, self._output_limit_bytes, None)

        result = _final_result(outcome, command_args.with_memory_monitoring)
        result.stdout = decode_output(outcome.stdout)
        result.stderr = decode_output(outcome.stderr)
        return result.SerializeToString()

    async def run_stream(self, args: bytes, metadata: Mapping[str, str]) -> AsyncIterator[bytes]:
        """Yield an encoded `CommandResult` per output line, then one with the exit code.

        A line result sets only `stdout` or `stderr`, holding the line without its
        newline. Lines of one stream keep their order. The last result has
        `exit_code`, `execution_time_ms` and `started_at`, and no output.

        Raises:
            RunnerArgumentError: args do not decode or name no command.
            RetryableRunnerError: The command could not be started.
        """
        command_args = _parse_args(args)
        lines: asyncio.Queue[tuple[process.OutputStream, bytes] | None] = asyncio.Queue()

        def enqueue_line(stream: process.OutputStream, line: bytes) -> None:
            lines.put_nowait((stream, line))

        # NOTE: the queue has no bound, so lines that the consumer of this
        # generator takes more slowly than the command writes them pile up in memory.
        job = asyncio.create_task(self._run_process(command_args, 0, enqueue_line))
        job.add_done_callback(lambda _: lines.put_nowait(None))
        try:
            while (item := await lines.get()) is not None:
                yield _line_result(*item).SerializeToString()
            outcome = await job
        finally:
            await _stop_job(job)

        yield _final_result(outcome, command_args.with_memory_monitoring).SerializeToString()

    async def _run_process(
        self,
        command_args: CommandArgs,
        output_limit_bytes: int,
        on_line: process.LineCallback | None,
    ) -> process.ProcessResult:
        argv = [command_args.command, *command_args.args]
        try:
            return await process.run_process(
                argv,
                output_limit_bytes=output_limit_bytes,
                kill_grace_s=self._kill_grace_s,
                on_line=on_line,
                monitor_memory=command_args.with_memory_monitoring,
            )
        except OSError as exc:
            raise RetryableRunnerError(_start_failure_message(command_args.command, exc)) from exc


def _parse_args(args: bytes) -> CommandArgs:
    """Decode CommandArgs and raise RunnerArgumentError when they cannot be run."""
    command_args = CommandArgs()
    try:
        command_args.ParseFromString(args)
    except DecodeError as exc:
        raise RunnerArgumentError(
            f"invalid COMMAND args: {exc}; send an encoded jobworkerp.runner.CommandArgs message"
        ) from exc

    if not command_args.command:
        raise RunnerArgumentError(
            "COMMAND args have an empty command; set CommandArgs.command to the program to run"
        )
    # exec() takes C strings, so a NUL would end an argument early.
    for value in (command_args.command, *command_args.args):
        if "\0" in value:
            raise RunnerArgumentError(
                f"COMMAND args contain a NUL character in {value!r}; remove it"
            )
    return command_args


def _start_failure_message(command: str, exc: OSError) -> str:
    message = f"cannot start command {command!r}: {exc.strerror or exc}"
    if isinstance(exc, FileNotFoundError):
        message += "; check the name, or add its directory to the PATH of the jwp server"
    return message


def _final_result(outcome: process.ProcessResult, with_memory_monitoring: bool) -> CommandResult:
    result = CommandResult(
        exit_code=outcome.exit_code,
        execution_time_ms=outcome.execution_time_ms,
        started_at=outcome.started_at_ms,
    )
    if with_memory_monitoring and outcome.max_memory_usage_kb is not None:
        result.max_memory_usage_kb = outcome.max_memory_usage_kb
    return result


def _line_result(stream: process.OutputStream, line: bytes) -> CommandResult:
    text = line.decode("utf-8", errors="replace")
    if stream is process.OutputStream.STDOUT:
        return CommandResult(stdout=text)
    return CommandResult(stderr=text)


def decode_output(captured: process.CapturedOutput) -> str:
    """Decode captured output as UTF-8 and drop one trailing newline.

    Invalid bytes become U+FFFD. Truncated output ends with TRUNCATION_MARKER,
    and a character split by the cut counts among the bytes not captured.
    """
    truncated = captured.dropped_bytes > 0
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    text = decoder.decode(captured.data, final=not truncated).removesuffix("\n")
    if not truncated:
        return text

    split_character, _ = decoder.getstate()
    dropped_bytes = captured.dropped_bytes + len(split_character)
    return text + TRUNCATION_MARKER.format(dropped_bytes=dropped_bytes)


async def _stop_job(job: asyncio.Task[process.ProcessResult]) -> None:
    """Cancel the job's process unless it has finished, and wait until it has stopped."""
    if not job.done():
        job.cancel()
    await asyncio.wait({job})
    if not job.cancelled():
        job.exception()  # retrieved, so asyncio does not log it as never retrieved
