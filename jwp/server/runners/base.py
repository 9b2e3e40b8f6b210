"""The runner interface: what a job runs, and how the server describes it to clients.

A `RunnerSpec` is what RunnerService shows (name, type, the proto texts of
its settings, args and result) plus a factory of instances. A `Runner` is
one instance: loaded once with a worker's settings, then asked to run jobs,
one at a time. A static worker keeps instances in a pool and reuses them;
other workers get a fresh instance per job.

Cancellation (timeout or a cancel request) is asyncio task cancellation:
`run` must let `CancelledError` propagate after stopping whatever it started
(processes, connections), so no work outlives its job.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass

from jwp.proto.jobworkerp.data import common_pb2, runner_pb2


class Runner(abc.ABC):
    """One loaded runner instance."""

    static: bool = False
    """Whether the instance serves a worker with `use_static`, so it is loaded once and then
    runs many jobs. The instance pool sets it before calling `load`."""

    async def load(self, settings: bytes) -> None:  # noqa: B027 - optional hook
        """Prepare the instance with the worker's settings bytes (the settings message).

        Raise `RunnerArgumentError` for settings the runner cannot use and
        `FatalRunnerError` when the runner cannot be set up at all.
        """

    @abc.abstractmethod
    async def run(self, args: bytes, metadata: Mapping[str, str]) -> bytes:
        """Run one job and return its result bytes (the result message).

        Raise a `RunnerError` subclass for a failed run: the class decides the
        job result status, the message becomes the result output.
        """

    def run_stream(self, args: bytes, metadata: Mapping[str, str]) -> AsyncIterator[bytes]:
        """Run one job, yielding result chunks (each an encoded result message) as they come.

        Only runners whose output type is STREAMING or BOTH override this.
        """
        raise NotImplementedError(f"{type(self).__name__} does not stream its output")

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release what `load` acquired; called when the instance is dropped."""


@dataclass(frozen=True)
class RunnerSpec:
    """A runner as RunnerService describes it, and how to create its instances."""

    id: int
    name: str
    description: str
    runner_type: common_pb2.RunnerType
    settings_proto: str
    args_proto: str
    result_proto: str | None
    output_type: runner_pb2.StreamingOutputType
    definition: str
    factory: Callable[[], Runner]
    settings_check: Callable[[bytes], Awaitable[None]] | None = None
    """Checks worker settings beyond their message (e.g. a workflow document) when a
    worker is created or updated; raises InvalidArgumentError."""

    def to_proto(self) -> runner_pb2.Runner:
        data = runner_pb2.RunnerData(
            name=self.name,
            description=self.description,
            runner_type=self.runner_type,
            runner_settings_proto=self.settings_proto,
            job_args_proto=self.args_proto,
            output_type=self.output_type,
            definition=self.definition,
        )
        if self.result_proto is not None:
            data.result_output_proto = self.result_proto
        return runner_pb2.Runner(id=runner_pb2.RunnerId(value=self.id), data=data)

    @property
    def streams(self) -> bool:
        """Whether the runner can stream its output."""
        return self.output_type in (runner_pb2.STREAMING, runner_pb2.BOTH)
