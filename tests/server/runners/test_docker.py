"""Tests of the DOCKER runner through the docker SDK against a fake engine on loopback.

The fake engine runs container commands as local processes; see fake_docker
for what it does and does not reproduce.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from jwp.errors import FatalRunnerError, RetryableRunnerError, RunnerArgumentError
from jwp.proto.jobworkerp.data import common_pb2
from jwp.proto.jobworkerp.runner.docker_args_pb2 import DockerArgs
from jwp.proto.jobworkerp.runner.docker_runner_pb2 import DockerRunnerSettings
from jwp.server.runners.docker import DockerRunner
from tests.conftest import Stubs
from tests.server.runners.fake_docker import FakeDockerEngine
from tests.support.http_server import HttpServer, serve_http
from tests.support.jobs import output_text, run_job
from tests.support.waiting import eventually

DOCKER = common_pb2.RunnerType.DOCKER


@pytest.fixture
def engine() -> FakeDockerEngine:
    return FakeDockerEngine(images=("busybox:latest",))


@pytest.fixture
async def engine_server(
    engine: FakeDockerEngine, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[HttpServer]:
    async with serve_http(engine.handle) as server:
        monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{server.port}")
        monkeypatch.delenv("DOCKER_TLS_VERIFY", raising=False)
        yield server
        await engine.close()


def settings(**fields: object) -> bytes:
    return DockerRunnerSettings(**fields).SerializeToString()  # type: ignore[arg-type]


def args(*cmd: str, **fields: object) -> bytes:
    return DockerArgs(cmd=cmd, **fields).SerializeToString()  # type: ignore[arg-type]


async def loaded(runner_settings: bytes, *, static: bool = False) -> DockerRunner:
    runner = DockerRunner()
    runner.static = static
    await runner.load(runner_settings)
    return runner


async def run(runner_settings: bytes, job_args: bytes) -> bytes:
    runner = await loaded(runner_settings)
    try:
        return await runner.run(job_args, {})
    finally:
        await runner.close()


async def test_container_per_job_returns_stdout_lines(
    engine: FakeDockerEngine, engine_server: HttpServer
) -> None:
    output = await run(
        settings(from_image="busybox", env=["GREETING=hello"], volumes=["/tmp:/data:ro"]),
        args("sh", "-c", 'printf "$GREETING\\nsecond"; echo err >&2', env=["EXTRA=1"]),
    )

    assert output == b"hello\nsecond\n"
    (container,) = engine.containers.values()
    assert container.config["Image"] == "busybox"
    assert container.config["Env"] == ["GREETING=hello", "EXTRA=1"]
    assert container.config["HostConfig"]["Binds"] == ["/tmp:/data:ro"]
    assert container.removed
    assert engine.pulls == []


async def test_job_image_options_override_settings(
    engine: FakeDockerEngine, engine_server: HttpServer, tmp_path: Path
) -> None:
    output = await run(
        settings(from_image="unused", entrypoint=["false"], working_dir="/nowhere"),
        args(
            "-c",
            "pwd",
            image="busybox:latest",
            entrypoint=["sh"],
            working_dir=str(tmp_path),
            user="1000",
            exposed_ports=["8080", "53/udp"],
            network_disabled=True,
        ),
    )

    assert output == f"{tmp_path}\n".encode()
    config = next(iter(engine.containers.values())).config
    assert config["Image"] == "busybox:latest"
    assert config["User"] == "1000"
    assert config["ExposedPorts"] == {"8080/tcp": {}, "53/udp": {}}
    assert config["NetworkDisabled"] is True


async def test_missing_image_is_pulled(engine: FakeDockerEngine, engine_server: HttpServer) -> None:
    output = await run(settings(from_image="alpine", tag="3.20"), args("echo", "pulled"))

    assert output == b"pulled\n"
    assert engine.pulls == ["alpine:3.20"]


async def test_unpullable_image_is_argument_error(
    engine: FakeDockerEngine, engine_server: HttpServer
) -> None:
    with pytest.raises(RunnerArgumentError, match="pull access denied for missing/image"):
        await run(settings(), args("true", image="missing/image"))


async def test_nonzero_exit_fails_with_stderr(
    engine: FakeDockerEngine, engine_server: HttpServer
) -> None:
    with pytest.raises(RunnerArgumentError, match="exited with code 3: broken"):
        await run(settings(from_image="busybox"), args("sh", "-c", "echo broken >&2; exit 3"))

    assert next(iter(engine.containers.values())).removed


async def test_cancel_removes_running_container(
    engine: FakeDockerEngine, engine_server: HttpServer
) -> None:
    runner = await loaded(settings(from_image="busybox"))
    job = asyncio.create_task(runner.run(args("sleep", "30"), {}))
    await eventually(
        lambda: _async_value(any(c.process for c in engine.containers.values())),
        message="container process started",
    )

    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    await runner.close()

    (container,) = engine.containers.values()
    assert container.killed
    assert container.removed


async def test_static_container_runs_jobs_as_execs(
    engine: FakeDockerEngine, engine_server: HttpServer
) -> None:
    runner = await loaded(settings(from_image="busybox", env=["BASE=b"]), static=True)
    try:
        first = await runner.run(args("sh", "-c", 'echo "$BASE $JOB"', env=["JOB=one"]), {})
        second = await runner.run(args("echo", "two"), {})
        with pytest.raises(RunnerArgumentError, match="exited with code 4: bad"):
            await runner.run(args("sh", "-c", "echo bad >&2; exit 4"), {})
    finally:
        await runner.close()

    assert first == b"b one\n"
    assert second == b"two\n"
    (container,) = engine.containers.values()
    assert container.config["Tty"] is True
    assert len(engine.execs) == 3
    assert container.removed


async def test_static_needs_from_image(engine_server: HttpServer) -> None:
    with pytest.raises(RunnerArgumentError, match="static worker needs from_image"):
        await loaded(settings(), static=True)


async def test_static_needs_cmd(engine_server: HttpServer) -> None:
    runner = await loaded(settings(from_image="busybox"), static=True)
    try:
        with pytest.raises(RunnerArgumentError, match="cmd is empty"):
            await runner.run(args(), {})
    finally:
        await runner.close()


async def test_no_image_rejected(engine_server: HttpServer) -> None:
    with pytest.raises(RunnerArgumentError, match="no image"):
        await run(settings(), args("true"))


async def test_from_src_rejected() -> None:
    with pytest.raises(RunnerArgumentError, match="from_src"):
        await loaded(settings(from_src="FROM busybox"))


async def test_missing_docker_package_names_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "docker", None)  # makes `import docker` fail

    with pytest.raises(FatalRunnerError, match=r"pip install 'jwp\[docker\]'"):
        await loaded(settings(from_image="busybox"))


async def test_unreachable_engine_is_retryable(monkeypatch: pytest.MonkeyPatch) -> None:
    async with serve_http(FakeDockerEngine().handle) as server:
        port = server.port
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{port}")

    with pytest.raises(RetryableRunnerError, match="cannot reach the Docker engine"):
        await loaded(settings(from_image="busybox"))


async def test_job_runs_container(stubs: Stubs, engine_server: HttpServer) -> None:
    result = await run_job(stubs, DOCKER, settings(from_image="busybox"), args("echo", "job"))

    assert result.status == common_pb2.SUCCESS
    assert result.output.items == b"job\n"


async def test_job_static_worker(
    stubs: Stubs, engine: FakeDockerEngine, engine_server: HttpServer
) -> None:
    result = await run_job(
        stubs, DOCKER, settings(from_image="busybox"), args("echo", "exec"), use_static=True
    )

    assert result.status == common_pb2.SUCCESS
    assert result.output.items == b"exec\n"
    assert len(engine.execs) == 1


async def test_job_timeout_ends_in_max_retry(
    stubs: Stubs, engine: FakeDockerEngine, engine_server: HttpServer
) -> None:
    result = await run_job(
        stubs, DOCKER, settings(from_image="busybox"), args("sleep", "30"), timeout_ms=500
    )

    assert result.status == common_pb2.MAX_RETRY
    assert "timed out after 500 ms" in output_text(result)
    await eventually(
        lambda: _async_value(all(c.removed for c in engine.containers.values())),
        message="container removed",
    )
    assert all(c.killed for c in engine.containers.values())


async def _async_value(value: bool) -> bool:
    return value
