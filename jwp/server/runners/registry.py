"""The runners this server can run, by id and by name.

Built-in runners have fixed ids (COMMAND is 1, and so on, as in jobworkerp);
runners added at run time get snowflake ids. The registry is the source of
what RunnerService lists: the `runner` table keeps the rows so that ids stay
stable across restarts and processes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from jwp.errors import NotFoundError
from jwp.proto.jobworkerp.data import common_pb2, runner_pb2
from jwp.server.storage import RunnerRepository, RunnerRow

from .base import RunnerSpec
from .host import RunnerHost
from .protos import runner_proto

logger = logging.getLogger(__name__)

# Ids at or below this value belong to built-in runners and cannot be deleted.
MAX_RESERVED_RUNNER_ID = 65535


class RunnerRegistry:
    """Specs of every runner this process can run."""

    def __init__(self, specs: Iterable[RunnerSpec] = ()) -> None:
        self._by_id: dict[int, RunnerSpec] = {}
        self._by_name: dict[str, RunnerSpec] = {}
        for spec in specs:
            self.add(spec)

    def add(self, spec: RunnerSpec) -> None:
        """Register a runner; a second runner with the same id or name replaces the first."""
        old = self._by_id.get(spec.id)
        if old is not None:
            self._by_name.pop(old.name, None)
        self._by_id[spec.id] = spec
        self._by_name[spec.name] = spec

    def remove(self, runner_id: int) -> RunnerSpec | None:
        spec = self._by_id.pop(runner_id, None)
        if spec is not None:
            self._by_name.pop(spec.name, None)
        return spec

    def find(self, runner_id: int) -> RunnerSpec | None:
        return self._by_id.get(runner_id)

    def find_by_name(self, name: str) -> RunnerSpec | None:
        return self._by_name.get(name)

    def get(self, runner_id: int) -> RunnerSpec:
        """Return a runner's spec or raise NotFoundError naming the id."""
        spec = self._by_id.get(runner_id)
        if spec is None:
            raise NotFoundError(
                f"runner {runner_id} not found; list runners with `jwp runner list`"
            )
        return spec

    def all(self) -> list[RunnerSpec]:
        """Every runner, highest id first (run-time runners before built-ins)."""
        return sorted(self._by_id.values(), key=lambda spec: spec.id, reverse=True)

    def __len__(self) -> int:
        return len(self._by_id)

    async def store_rows(self, repository: RunnerRepository) -> None:
        """Insert rows for registered runners that the database does not have yet."""
        await repository.insert_missing(
            [
                RunnerRow(
                    id=spec.id,
                    name=spec.name,
                    description=spec.description,
                    definition=spec.definition,
                    runner_type=spec.runner_type,
                )
                for spec in self.all()
            ]
        )


def builtin_specs(host: RunnerHost) -> list[RunnerSpec]:
    """Specs of the built-in runners implemented in this version."""
    from jwp.server.workflow.specs import workflow_specs

    from .command import CommandRunner

    settings = host.settings

    kill_grace_s = settings.jwp_kill_grace_ms / 1000
    return [
        RunnerSpec(
            id=common_pb2.RunnerType.COMMAND,
            name="COMMAND",
            description=(
                "Runs a program with arguments, without a shell, and returns its exit code, "
                "stdout and stderr"
            ),
            runner_type=common_pb2.RunnerType.COMMAND,
            settings_proto="",
            args_proto=runner_proto("command_args.proto"),
            result_proto=runner_proto("command_result.proto"),
            output_type=runner_pb2.BOTH,
            definition="builtin1",
            factory=lambda: CommandRunner(
                output_limit_bytes=settings.jwp_command_output_limit_bytes,
                kill_grace_s=kill_grace_s,
            ),
        ),
        *workflow_specs(host),
    ]
