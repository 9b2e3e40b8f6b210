"""The PYTHON_COMMAND runner: run a Python script in a virtual environment made with uv.

`load` prepares the environment that the worker's settings describe
(`python_version`, and `packages` or `requirements_url`) through the shared
cache of `python_env`. So only the first worker with given settings waits
for uv, and a static worker keeps its loaded instance for later jobs.

`run` writes the script (`script_content`, or downloaded from `script_url`)
to `script.py` in a fresh temporary folder. When the job has input data
(`data_body`, or downloaded from `data_url`), it is written to `input.bin`
there and its path is the script's first argument. The script runs as
`<env>/bin/python -u script.py [input.bin]` in that folder with the
server's environment plus `env_vars`, its own process group, and output
capped like COMMAND's. The result has the exit code, stdout as `output`,
and stderr as `output_stderr` whenever stderr is not empty (`with_stderr`
is accepted but changes nothing, as in jobworkerp). A non-zero exit code is
a result, not a failure.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

import httpx

from jwp.errors import RetryableRunnerError, RunnerArgumentError
from jwp.proto.jobworkerp.runner.python_command_args_pb2 import PythonCommandArgs
from jwp.proto.jobworkerp.runner.python_command_result_pb2 import PythonCommandResult
from jwp.proto.jobworkerp.runner.python_command_runner_pb2 import PythonCommandRunnerSettings

from . import process
from .base import Runner
from .command import decode_output
from .http_request import decode_body
from .parsing import parse_args, parse_settings, require_field
from .python_env import PythonEnvironment, Requirements, ensure_environment

logger = logging.getLogger(__name__)

RUNNER_NAME = "PYTHON_COMMAND"

# A version request as uv takes it ("3.12", "3.11.7", "cpython@3.12",
# "pypy3.10"); anything else, an option in particular, is rejected.
_PYTHON_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.@+_-]*$")


def default_uv_path() -> str:
    """Return the uv binary shipped with the `uv` package, or `uv` from PATH without it."""
    try:
        import uv
    except ImportError:
        return "uv"
    return str(uv.find_uv_bin())


class PythonCommandRunner(Runner):
    """Runs `PythonCommandArgs` scripts in the environment of the worker's settings.

    Args:
        env_root: Folder of the cached environments.
        output_limit_bytes: Bytes kept of each of stdout and stderr.
        kill_grace_s: Seconds between SIGTERM and SIGKILL when a job is stopped.
        download_timeout: Timeouts of script, data and requirements downloads.
        download_limit_bytes: A larger download fails the job.
    """

    def __init__(
        self,
        *,
        env_root: Path,
        output_limit_bytes: int,
        kill_grace_s: float,
        download_timeout: httpx.Timeout,
        download_limit_bytes: int,
    ) -> None:
        self._env_root = env_root
        self._output_limit_bytes = output_limit_bytes
        self._kill_grace_s = kill_grace_s
        self._download_timeout = download_timeout
        self._download_limit_bytes = download_limit_bytes
        self._environment: PythonEnvironment | None = None

    async def load(self, settings: bytes) -> None:
        """Find or build the environment of the settings.

        Raises:
            RunnerArgumentError: Invalid settings, or the requirements file
                could not be downloaded because of its URL.
            RetryableRunnerError: The requirements download got no response.
            FatalRunnerError: uv failed (unknown package or Python version).
        """
        message = parse_settings(PythonCommandRunnerSettings, settings, RUNNER_NAME)
        python_version = require_field(
            message.python_version, "python_version", RUNNER_NAME, 'set it, e.g. to "3.12"'
        )
        if not _PYTHON_VERSION.match(python_version):
            raise RunnerArgumentError(
                f"{RUNNER_NAME}: python_version {python_version!r} is not a version request; "
                'use a version such as "3.12" or "3.11.7"'
            )
        uv = message.uv_path.strip() if message.HasField("uv_path") else ""
        requirements = await self._requirements(message)
        self._environment = await ensure_environment(
            self._env_root,
            uv=uv or default_uv_path(),
            python_version=python_version,
            requirements=requirements,
            kill_grace_s=self._kill_grace_s,
        )

    async def _requirements(self, message: PythonCommandRunnerSettings) -> Requirements:
        kind = message.WhichOneof("requirements_spec")
        if kind == "requirements_url":
            url = require_field(
                message.requirements_url, "requirements_url", RUNNER_NAME, "set a URL or packages"
            )
            return Requirements(requirements_text=await self._download(url, "requirements_url"))
        packages = tuple(name.strip() for name in message.packages.list)
        for name in packages:
            if not name or name.startswith("-"):
                raise RunnerArgumentError(
                    f"{RUNNER_NAME}: packages contains {name!r}, which is not a package "
                    'specifier; list packages such as "requests" or "numpy>=2"'
                )
        return Requirements(packages=packages)

    async def run(self, args: bytes, metadata: Mapping[str, str]) -> bytes:
        """Run the script to its exit and return an encoded `PythonCommandResult`.

        Raises:
            RunnerArgumentError: Invalid args, or a download refused by its server.
            RetryableRunnerError: A download got no response, or Python could not start.
        """
        if self._environment is None:
            raise RuntimeError("PythonCommandRunner.run called before load")
        command_args = parse_args(PythonCommandArgs, args, RUNNER_NAME)
        script = await self._script(command_args)
        input_data = await self._input_data(command_args)

        work_dir = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="jwp-python-"))
        try:
            argv = await asyncio.to_thread(_write_files, work_dir, script, input_data)
            outcome = await self._run_script(
                [str(self._environment.python), "-u", *argv], work_dir, command_args
            )
        finally:
            await asyncio.to_thread(shutil.rmtree, work_dir, ignore_errors=True)

        result = PythonCommandResult(
            exit_code=outcome.exit_code, output=decode_output(outcome.stdout)
        )
        if outcome.stderr.data or outcome.stderr.dropped_bytes:
            result.output_stderr = decode_output(outcome.stderr)
        return result.SerializeToString()

    async def _script(self, command_args: PythonCommandArgs) -> str:
        kind = command_args.WhichOneof("script")
        if kind == "script_url":
            return await self._download(command_args.script_url, "script_url")
        if kind == "script_content" and command_args.script_content.strip():
            return command_args.script_content
        raise RunnerArgumentError(
            f"{RUNNER_NAME}: the job has no script; set script_content or script_url"
        )

    async def _input_data(self, command_args: PythonCommandArgs) -> str | None:
        kind = command_args.WhichOneof("input_data")
        if kind == "data_url":
            return await self._download(command_args.data_url, "data_url")
        if kind == "data_body":
            return command_args.data_body
        return None

    async def _run_script(
        self, argv: list[str], work_dir: Path, command_args: PythonCommandArgs
    ) -> process.ProcessResult:
        assert self._environment is not None
        env = dict(os.environ)
        env["VIRTUAL_ENV"] = str(self._environment.path)
        env["PATH"] = f"{self._environment.path / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env.update(command_args.env_vars)
        try:
            return await process.run_process(
                argv,
                output_limit_bytes=self._output_limit_bytes,
                kill_grace_s=self._kill_grace_s,
                env=env,
                cwd=work_dir,
            )
        except OSError as error:
            raise RetryableRunnerError(
                f"{RUNNER_NAME}: cannot start {argv[0]}: {error.strerror or error}"
            ) from None

    async def _download(self, url: str, field: str) -> str:
        """Return the text at url, raising the runner error its failure calls for."""
        try:
            async with (
                httpx.AsyncClient(timeout=self._download_timeout) as client,
                client.stream("GET", url, follow_redirects=True) as response,
            ):
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > self._download_limit_bytes:
                        raise RunnerArgumentError(
                            f"{RUNNER_NAME}: {field} {url} is larger than "
                            f"{self._download_limit_bytes} bytes"
                        )
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as error:
            raise RunnerArgumentError(
                f"{RUNNER_NAME}: {field} {url!r} is invalid: {error}"
            ) from None
        except httpx.HTTPError as error:
            raise RetryableRunnerError(
                f"{RUNNER_NAME}: downloading {field} {url} failed: {type(error).__name__}: {error}"
            ) from None
        if response.status_code >= 500:
            raise RetryableRunnerError(
                f"{RUNNER_NAME}: downloading {field} {url} failed with HTTP {response.status_code}"
            )
        if response.status_code >= 400:
            raise RunnerArgumentError(
                f"{RUNNER_NAME}: {field} {url} returned HTTP {response.status_code}; check the URL"
            )
        return decode_body(bytes(body), response.charset_encoding)


def _write_files(work_dir: Path, script: str, input_data: str | None) -> list[str]:
    """Write the script and input into work_dir and return the script's argv after python."""
    (work_dir / "script.py").write_text(script, encoding="utf-8")
    if input_data is None:
        return ["script.py"]
    input_path = work_dir / "input.bin"
    input_path.write_text(input_data, encoding="utf-8")
    return ["script.py", str(input_path)]
