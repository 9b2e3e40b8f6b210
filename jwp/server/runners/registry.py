"""The runners this server can run, by id and by name.

Built-in runners have fixed ids (COMMAND is 1, and so on, as in jobworkerp);
runners added at run time get snowflake ids. The registry is the source of
what RunnerService lists: the `runner` table keeps the rows so that ids stay
stable across restarts and processes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import httpx

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
    from .docker import DockerRunner
    from .grpc_unary import GrpcUnaryRunner
    from .http_request import HttpRequestRunner, check_http_request_settings
    from .llm import LlmChatRunner, LlmCompletionRunner
    from .python_command import PythonCommandRunner
    from .slack import SlackPostMessageRunner

    settings = host.settings

    kill_grace_s = settings.jwp_kill_grace_ms / 1000
    openai_api_key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    http_connect_timeout_s = settings.jwp_http_connect_timeout_ms / 1000
    llm_read_timeout_s = settings.jwp_llm_read_timeout_ms / 1000
    python_env_root = settings.jwp_python_env_dir or Path.home() / ".cache" / "jwp" / "python-envs"
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
        RunnerSpec(
            id=common_pb2.RunnerType.HTTP_REQUEST,
            name="HTTP_REQUEST",
            description=(
                "Sends an HTTP request to a path under the worker's base URL and returns the "
                "status code, headers and body"
            ),
            runner_type=common_pb2.RunnerType.HTTP_REQUEST,
            settings_proto=runner_proto("http_request_runner.proto"),
            args_proto=runner_proto("http_request_args.proto"),
            result_proto=runner_proto("http_request_result.proto"),
            output_type=runner_pb2.NON_STREAMING,
            definition="builtin2",
            factory=lambda: HttpRequestRunner(
                connect_timeout_s=settings.jwp_http_connect_timeout_ms / 1000,
                read_timeout_s=settings.jwp_http_read_timeout_ms / 1000,
                total_timeout_s=settings.jwp_http_total_timeout_ms / 1000,
                response_limit_bytes=settings.jwp_http_response_limit_bytes,
            ),
            settings_check=check_http_request_settings,
        ),
        RunnerSpec(
            id=common_pb2.RunnerType.SLACK_POST_MESSAGE,
            name="SLACK_POST_MESSAGE",
            description="Posts a message to a Slack channel with a bot token (chat.postMessage)",
            runner_type=common_pb2.RunnerType.SLACK_POST_MESSAGE,
            settings_proto=runner_proto("slack_runner.proto"),
            args_proto=runner_proto("slack_args.proto"),
            result_proto=runner_proto("slack_result.proto"),
            output_type=runner_pb2.NON_STREAMING,
            definition="builtin5",
            factory=lambda: SlackPostMessageRunner(
                api_base_url=settings.jwp_slack_api_base_url,
                connect_timeout_s=settings.jwp_http_connect_timeout_ms / 1000,
                read_timeout_s=settings.jwp_http_read_timeout_ms / 1000,
            ),
        ),
        RunnerSpec(
            id=common_pb2.RunnerType.LLM_CHAT,
            name="LLM_CHAT",
            description=(
                "Generates the next assistant message of a chat with a model served by Ollama "
                "or an OpenAI-compatible API"
            ),
            runner_type=common_pb2.RunnerType.LLM_CHAT,
            settings_proto=runner_proto("llm/runner.proto"),
            args_proto=runner_proto("llm/chat_args.proto"),
            result_proto=runner_proto("llm/chat_result.proto"),
            output_type=runner_pb2.BOTH,
            definition="builtin65533",
            factory=lambda: LlmChatRunner(
                openai_api_key=openai_api_key,
                connect_timeout_s=http_connect_timeout_s,
                read_timeout_s=llm_read_timeout_s,
            ),
        ),
        RunnerSpec(
            id=common_pb2.RunnerType.LLM_COMPLETION,
            name="LLM_COMPLETION",
            description=(
                "Completes a prompt with a model served by Ollama or an OpenAI-compatible API"
            ),
            runner_type=common_pb2.RunnerType.LLM_COMPLETION,
            settings_proto=runner_proto("llm/runner.proto"),
            args_proto=runner_proto("llm/completion_args.proto"),
            result_proto=runner_proto("llm/completion_result.proto"),
            output_type=runner_pb2.BOTH,
            definition="builtin65534",
            factory=lambda: LlmCompletionRunner(
                openai_api_key=openai_api_key,
                connect_timeout_s=http_connect_timeout_s,
                read_timeout_s=llm_read_timeout_s,
            ),
        ),
        RunnerSpec(
            id=common_pb2.RunnerType.PYTHON_COMMAND,
            name="PYTHON_COMMAND",
            description=(
                "Runs a Python script in a virtual environment with the given Python version "
                "and packages, made with uv and shared by workers with the same settings"
            ),
            runner_type=common_pb2.RunnerType.PYTHON_COMMAND,
            settings_proto=runner_proto("python_command_runner.proto"),
            args_proto=runner_proto("python_command_args.proto"),
            result_proto=runner_proto("python_command_result.proto"),
            output_type=runner_pb2.NON_STREAMING,
            definition="builtin6",
            factory=lambda: PythonCommandRunner(
                env_root=python_env_root,
                output_limit_bytes=settings.jwp_command_output_limit_bytes,
                kill_grace_s=kill_grace_s,
                download_timeout=httpx.Timeout(
                    connect=http_connect_timeout_s,
                    read=settings.jwp_http_read_timeout_ms / 1000,
                    write=settings.jwp_http_read_timeout_ms / 1000,
                    pool=None,
                ),
                download_limit_bytes=settings.jwp_http_response_limit_bytes,
            ),
        ),
        RunnerSpec(
            id=common_pb2.RunnerType.GRPC_UNARY,
            name="GRPC_UNARY",
            description=(
                "Calls a unary gRPC method with a base64 protobuf request, or JSON through the "
                "server's reflection service, and returns the response bytes and metadata"
            ),
            runner_type=common_pb2.RunnerType.GRPC_UNARY,
            settings_proto=runner_proto("grpc_unary_runner.proto"),
            args_proto=runner_proto("grpc_unary_args.proto"),
            result_proto=runner_proto("grpc_unary_result.proto"),
            output_type=runner_pb2.NON_STREAMING,
            definition="builtin3",
            factory=GrpcUnaryRunner,
        ),
        RunnerSpec(
            id=common_pb2.RunnerType.DOCKER,
            name="DOCKER",
            description=(
                "Runs a command in a Docker container, one container per job or, for a static "
                "worker, as an exec in a long-lived container; returns its stdout"
            ),
            runner_type=common_pb2.RunnerType.DOCKER,
            settings_proto=runner_proto("docker_runner.proto"),
            args_proto=runner_proto("docker_args.proto"),
            # Raw bytes (stdout lines) without a schema, as jobworkerp declares it.
            result_proto="",
            output_type=runner_pb2.NON_STREAMING,
            definition="builtin4",
            factory=DockerRunner,
        ),
        *workflow_specs(host),
    ]
