"""Tests of the PYTHON_COMMAND runner with real uv environments and script processes.

Installing a package needs the package registry that uv is configured for.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from jwp.errors import FatalRunnerError, RunnerArgumentError
from jwp.proto.jobworkerp.data import common_pb2
from jwp.proto.jobworkerp.runner.python_command_args_pb2 import PythonCommandArgs
from jwp.proto.jobworkerp.runner.python_command_result_pb2 import PythonCommandResult
from jwp.proto.jobworkerp.runner.python_command_runner_pb2 import PythonCommandRunnerSettings
from jwp.server.runners.python_command import PythonCommandRunner
from jwp.server.runners.python_env import READY_MARKER, Requirements, environment_key
from tests.support.http_server import HttpServer, Request, Response, serve_http
from tests.support.jobs import output_text, run_job, server_stubs

PYTHON_COMMAND = common_pb2.RunnerType.PYTHON_COMMAND
PYTHON_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
SIX_SCRIPT = "import six; print('six', six.__version__.split('.')[0])"

FILES = {
    "/requirements.txt": b"six\n",
    "/script.py": b"import sys\nprint(open(sys.argv[1]).read().upper())\n",
    "/data.txt": b"downloaded input",
}


async def serve_files(request: Request) -> Response:
    if request.path in FILES:
        return Response(200, [("content-type", "text/plain")], FILES[request.path])
    return Response(404, body=b"not found")


@pytest.fixture
async def files() -> AsyncIterator[HttpServer]:
    async with serve_http(serve_files) as server:
        yield server


def settings(*packages: str, requirements_url: str | None = None, **fields: str) -> bytes:
    message = PythonCommandRunnerSettings(python_version=PYTHON_VERSION, **fields)
    if requirements_url is not None:
        message.requirements_url = requirements_url
    else:
        message.packages.list.extend(packages)
    return message.SerializeToString()


def make_runner(env_root: Path) -> PythonCommandRunner:
    return PythonCommandRunner(
        env_root=env_root,
        output_limit_bytes=100_000,
        kill_grace_s=0.5,
        download_timeout=httpx.Timeout(5.0),
        download_limit_bytes=100_000,
    )


async def loaded(env_root: Path, runner_settings: bytes) -> PythonCommandRunner:
    runner = make_runner(env_root)
    await runner.load(runner_settings)
    return runner


async def run(runner: PythonCommandRunner, **fields: object) -> PythonCommandResult:
    args = PythonCommandArgs(**fields)  # type: ignore[arg-type]
    return PythonCommandResult.FromString(await runner.run(args.SerializeToString(), {}))


async def test_package_installed_then_environment_reused(tmp_path: Path) -> None:
    env_root = tmp_path / "envs"

    started = time.monotonic()
    first = await loaded(env_root, settings("six"))
    first_load_s = time.monotonic() - started
    started = time.monotonic()
    second = await loaded(env_root, settings("six"))
    second_load_s = time.monotonic() - started

    for runner in (first, second):
        result = await run(runner, script_content=SIX_SCRIPT)
        assert result.exit_code == 0, result.output_stderr
        assert result.output == "six 1"
    key = environment_key(PYTHON_VERSION, Requirements(packages=("six",)))
    assert [path.name for path in env_root.iterdir() if path.is_dir()] == [key]
    assert second_load_s < first_load_s / 5, (first_load_s, second_load_s)


async def test_concurrent_loads_build_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="jwp.server.runners.python_env")

    runners = await asyncio.gather(*(loaded(tmp_path, settings("six")) for _ in range(3)))

    builds = [r for r in caplog.records if r.getMessage().startswith("creating Python")]
    assert len(builds) == 1
    for runner in runners:
        assert (await run(runner, script_content=SIX_SCRIPT)).output == "six 1"


async def test_interrupted_build_is_redone(tmp_path: Path) -> None:
    key = environment_key(PYTHON_VERSION, Requirements(packages=()))
    leftover = tmp_path / key
    leftover.mkdir()
    (leftover / "half-written").write_text("x")

    runner = await loaded(tmp_path, settings())

    assert (leftover / READY_MARKER).exists()
    assert not (leftover / "half-written").exists()
    assert (await run(runner, script_content="print(1 + 1)")).output == "2"


async def test_requirements_url_script_url_and_data_url(tmp_path: Path, files: HttpServer) -> None:
    runner = await loaded(tmp_path, settings(requirements_url=files.url + "/requirements.txt"))

    imported = await run(runner, script_content=SIX_SCRIPT)
    downloaded = await run(
        runner, script_url=files.url + "/script.py", data_url=files.url + "/data.txt"
    )

    assert imported.output == "six 1"
    assert downloaded.exit_code == 0, downloaded.output_stderr
    assert downloaded.output == "DOWNLOADED INPUT"


async def test_data_body_env_vars_and_stderr(tmp_path: Path) -> None:
    runner = await loaded(tmp_path, settings())
    script = (
        "import os, sys\n"
        "in_env = sys.prefix == os.environ['VIRTUAL_ENV']\n"
        "print(open(sys.argv[1]).read(), os.environ['GREETING'], in_env)\n"
        "print('warned', file=sys.stderr)\n"
        "sys.exit(3)\n"
    )

    result = await run(
        runner, script_content=script, data_body="input", env_vars={"GREETING": "hi"}
    )

    assert result.exit_code == 3
    assert result.output == "input hi True"
    assert result.output_stderr == "warned"


async def test_no_stderr_leaves_field_unset(tmp_path: Path) -> None:
    runner = await loaded(tmp_path, settings())

    result = await run(runner, script_content="print('ok')")

    assert not result.HasField("output_stderr")


async def test_timeout_stops_script(tmp_path: Path) -> None:
    runner = await loaded(tmp_path, settings())
    args = PythonCommandArgs(script_content="import time\ntime.sleep(30)\n").SerializeToString()

    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(runner.run(args, {}), timeout=0.5)

    assert time.monotonic() - started < 3


async def test_unknown_package_is_fatal(tmp_path: Path) -> None:
    with pytest.raises(FatalRunnerError, match="`uv pip` failed") as caught:
        await loaded(tmp_path, settings("jwp-test-no-such-package-8d1f2c"))

    assert "jwp-test-no-such-package-8d1f2c" in str(caught.value)


async def test_unavailable_python_version_is_fatal(tmp_path: Path) -> None:
    message = PythonCommandRunnerSettings(python_version="2.1")

    with pytest.raises(FatalRunnerError, match="`uv venv` failed"):
        await loaded(tmp_path, message.SerializeToString())


async def test_missing_uv_is_fatal(tmp_path: Path) -> None:
    runner_settings = settings(uv_path=str(tmp_path / "no-uv"))

    with pytest.raises(FatalRunnerError, match="cannot start uv"):
        await loaded(tmp_path / "envs", runner_settings)


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (PythonCommandRunnerSettings(), "python_version is empty"),
        (PythonCommandRunnerSettings(python_version="--index-url"), "not a version request"),
        (
            PythonCommandRunnerSettings(
                python_version="3.12",
                packages=PythonCommandRunnerSettings.PackagesList(list=["--index-url=x"]),
            ),
            "packages contains '--index-url=x'",
        ),
    ],
)
async def test_bad_settings_rejected(
    tmp_path: Path, message: PythonCommandRunnerSettings, error: str
) -> None:
    with pytest.raises(RunnerArgumentError, match=error):
        await loaded(tmp_path, message.SerializeToString())


async def test_missing_requirements_url_rejected(tmp_path: Path, files: HttpServer) -> None:
    with pytest.raises(RunnerArgumentError, match="returned HTTP 404"):
        await loaded(tmp_path, settings(requirements_url=files.url + "/none.txt"))


async def test_bad_args_rejected(tmp_path: Path) -> None:
    runner = await loaded(tmp_path, settings())

    with pytest.raises(RunnerArgumentError, match="has no script"):
        await run(runner, data_body="x")
    with pytest.raises(RunnerArgumentError, match="is invalid"):
        await run(runner, script_url="not a url")


async def test_job_runs_script(tmp_path: Path) -> None:
    env_dir = tmp_path / "envs"
    args = PythonCommandArgs(script_content="print('from a job')").SerializeToString()

    async with server_stubs(tmp_path, jwp_python_env_dir=env_dir) as stubs:
        result = await run_job(stubs, PYTHON_COMMAND, settings(), args)
        failed = await run_job(
            stubs, PYTHON_COMMAND, PythonCommandRunnerSettings().SerializeToString(), args
        )

    assert result.status == common_pb2.SUCCESS
    assert PythonCommandResult.FromString(result.output.items).output == "from a job"
    assert failed.status == common_pb2.OTHER_ERROR
    assert "python_version is empty" in output_text(failed)


async def test_job_timeout_ends_in_max_retry(tmp_path: Path) -> None:
    env_dir = tmp_path / "envs"
    await loaded(env_dir, settings())  # built beforehand, so the timeout covers only the script
    args = PythonCommandArgs(script_content="import time\ntime.sleep(30)").SerializeToString()

    async with server_stubs(tmp_path, jwp_python_env_dir=env_dir) as stubs:
        result = await run_job(stubs, PYTHON_COMMAND, settings(), args, timeout_ms=1000)

    assert result.status == common_pb2.MAX_RETRY
    assert "timed out after 1000 ms" in output_text(result)
