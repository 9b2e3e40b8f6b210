"""The DOCKER runner: run a job's command in a Docker container.

The engine is the one `docker.from_env()` finds: DOCKER_HOST (and
DOCKER_TLS_VERIFY, DOCKER_CERT_PATH) or the local socket. The `docker`
package is an optional dependency (`pip install 'jwp[docker]'`), and its
blocking calls run in threads.

A worker without `use_static` runs one container per job. The image of
`DockerArgs.image` (or the settings' `from_image`) is pulled when missing.
Then a container is created with the job's command, environment, volumes
(binds such as `/host:/container:ro`), working dir, entrypoint, user and
exposed ports, and it is started, waited for and removed. A static worker keeps one
long-lived container per runner instance, created from `from_image` on
`load` with a TTY so that its default command (a shell) stays up, and runs
each job as an exec in it; `close` removes the container.

The result is the container's stdout as raw bytes, each line ending with
`\\n`. A non-zero exit code fails the job with OTHER_ERROR and the end of
its stderr, as jobworkerp's wait error did. The settings' `from_src` (build
an image from source) and the args' `shell` and `args_escaped` are not
supported, and `repo` is not used.

NOTE: no Docker engine runs where jwp was developed, so this runner was
tested only against the fake engine in tests/server/runners/fake_docker.py,
which implements the subset of the Engine API that the docker SDK calls
here. It was not run against a real engine.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from jwp.errors import FatalRunnerError, RetryableRunnerError, RunnerArgumentError, RunnerError
from jwp.proto.jobworkerp.runner.docker_args_pb2 import DockerArgs
from jwp.proto.jobworkerp.runner.docker_runner_pb2 import DockerRunnerSettings

from .base import Runner
from .parsing import parse_args, parse_settings

logger = logging.getLogger(__name__)

RUNNER_NAME = "DOCKER"

# Bytes of stderr quoted when a container exits with an error.
STDERR_EXCERPT_BYTES = 2000

T = TypeVar("T")


def _docker_module() -> Any:
    try:
        import docker
    except ImportError:
        raise FatalRunnerError(
            "the DOCKER runner needs the docker package; install it with "
            "`pip install 'jwp[docker]'`"
        ) from None
    return docker


class DockerRunner(Runner):
    """Runs `DockerArgs` in a container per job, or as execs in a static instance's container."""

    def __init__(self) -> None:
        self._settings = DockerRunnerSettings()
        self._docker: Any = None
        self._api: Any = None
        self._container_id: str | None = None

    async def load(self, settings: bytes) -> None:
        """Connect to the engine and, for a static worker, start the long-lived container.

        Raises:
            RunnerArgumentError: Invalid settings, an image that cannot be pulled,
                or (static) no `from_image`.
            RetryableRunnerError: The engine cannot be reached.
            FatalRunnerError: The docker package is not installed.
        """
        self._settings = parse_settings(DockerRunnerSettings, settings, RUNNER_NAME)
        if self._settings.HasField("from_src") and self._settings.from_src:
            raise RunnerArgumentError(
                f"{RUNNER_NAME}: from_src (building an image) is not supported; "
                "build the image beforehand and set from_image"
            )
        self._docker = _docker_module()
        client = await self._call(self._docker.from_env)
        self._api = client.api
        if self.static:
            await self._start_static_container()

    async def close(self) -> None:
        if self._api is None:
            return
        if self._container_id is not None:
            await self._remove(self._container_id)
            self._container_id = None
        await asyncio.to_thread(self._api.close)
        self._api = None

    async def run(self, args: bytes, metadata: Mapping[str, str]) -> bytes:
        """Run the job's command and return its stdout lines, each ending with a newline.

        Raises:
            RunnerArgumentError: Invalid args, an unknown image, an engine error,
                or a non-zero exit code.
            RetryableRunnerError: The engine cannot be reached.
        """
        if self._api is None:
            raise RuntimeError("DockerRunner.run called before load")
        docker_args = parse_args(DockerArgs, args, RUNNER_NAME)
        if self._container_id is not None:
            return await self._run_exec(self._container_id, docker_args)
        return await self._run_container(docker_args)

    async def _start_static_container(self) -> None:
        image = self._image_of_settings()
        if image is None:
            raise RunnerArgumentError(
                f"{RUNNER_NAME}: a static worker needs from_image in its settings, because its "
                "container is created when the worker loads"
            )
        await self._ensure_image(image)
        container = await self._call(
            self._api.create_container,
            image,
            entrypoint=list(self._settings.entrypoint) or None,
            environment=list(self._settings.env) or None,
            working_dir=self._settings.working_dir or None,
            host_config=self._api.create_host_config(binds=list(self._settings.volumes) or None),
            tty=True,
            stdin_open=True,
        )
        self._container_id = str(container["Id"])
        await self._call(self._api.start, self._container_id)
        logger.info("started static container %s from %s", self._container_id[:12], image)

    async def _run_container(self, docker_args: DockerArgs) -> bytes:
        image = docker_args.image if docker_args.HasField("image") else self._image_of_settings()
        if not image:
            raise RunnerArgumentError(
                f"{RUNNER_NAME}: no image; set DockerArgs.image or from_image in the settings"
            )
        await self._ensure_image(image)
        container = await self._call(
            self._api.create_container, image, **self._create_options(docker_args)
        )
        container_id = str(container["Id"])
        logger.debug("created container %s from %s", container_id[:12], image)
        try:
            await self._call(self._api.start, container_id)
            status = await self._call(self._api.wait, container_id)
            stdout = await self._call(self._api.logs, container_id, stdout=True, stderr=False)
            exit_code = int(status.get("StatusCode", -1))
            if exit_code != 0:
                stderr = await self._call(self._api.logs, container_id, stdout=False, stderr=True)
                raise _exit_error(f"container from {image}", exit_code, stderr)
        finally:
            await asyncio.shield(self._remove(container_id))
        return _stdout_lines(stdout)

    async def _run_exec(self, container_id: str, docker_args: DockerArgs) -> bytes:
        if not docker_args.cmd:
            raise RunnerArgumentError(
                f"{RUNNER_NAME}: cmd is empty; a static worker runs each job's cmd in its container"
            )
        exec_id = await self._call(
            self._api.exec_create,
            container_id,
            list(docker_args.cmd),
            environment=list(docker_args.env) or None,
            workdir=docker_args.working_dir or None,
            user=docker_args.user or "",
        )
        # NOTE: a job stopped during the exec leaves the exec's process running
        # in the container until it ends, because the Engine API cannot kill an
        # exec. Closing the worker's instance removes the container.
        stdout, stderr = await self._call(self._api.exec_start, exec_id["Id"], demux=True)
        details = await self._call(self._api.exec_inspect, exec_id["Id"])
        exit_code = int(details.get("ExitCode") or 0)
        if exit_code != 0:
            raise _exit_error(f"exec in container {container_id[:12]}", exit_code, stderr or b"")
        return _stdout_lines(stdout or b"")

    def _create_options(self, docker_args: DockerArgs) -> dict[str, Any]:
        settings = self._settings
        entrypoint = list(docker_args.entrypoint) or list(settings.entrypoint)
        working_dir = docker_args.working_dir or settings.working_dir
        binds = [*settings.volumes, *docker_args.volumes]
        options: dict[str, Any] = {
            "command": list(docker_args.cmd) or None,
            "entrypoint": entrypoint or None,
            "environment": [*settings.env, *docker_args.env] or None,
            "working_dir": working_dir or None,
            "user": docker_args.user or None,
            "ports": _exposed_ports(docker_args.exposed_ports) or None,
            "network_disabled": docker_args.network_disabled,
            "mac_address": docker_args.mac_address or None,
            "host_config": self._api.create_host_config(binds=binds or None),
        }
        if settings.HasField("platform") and settings.platform:
            options["platform"] = settings.platform
        return options

    def _image_of_settings(self) -> str | None:
        settings = self._settings
        if not settings.from_image:
            return None
        if settings.HasField("tag") and settings.tag and ":" not in settings.from_image:
            return f"{settings.from_image}:{settings.tag}"
        return settings.from_image

    async def _ensure_image(self, image: str) -> None:
        """Pull `image` unless the engine has it."""
        errors = self._docker.errors
        try:
            await self._call(self._api.inspect_image, image)
            return
        except RunnerError as error:
            if not isinstance(error.__cause__, errors.ImageNotFound):
                raise
        repository, _, tag = (
            image.rpartition(":") if ":" in image.split("/")[-1] else (image, "", "")
        )
        logger.info("pulling image %s", image)
        platform = self._settings.platform or None
        await self._call(self._api.pull, repository, tag=tag or "latest", platform=platform)

    async def _remove(self, container_id: str) -> None:
        try:
            await self._call(self._api.remove_container, container_id, force=True)
        except RunnerError as error:
            logger.warning("removing container %s failed: %s", container_id[:12], error)

    async def _call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking SDK call in a thread, mapping its errors to runner errors."""
        errors = self._docker.errors
        try:
            return await asyncio.to_thread(function, *args, **kwargs)
        except errors.APIError as error:
            # jobworkerp fails the job with OTHER_ERROR on any engine error.
            raise RunnerArgumentError(
                f"Docker engine refused {function.__name__}: {error.explanation or error}"
            ) from error
        except (errors.DockerException, OSError) as error:
            # requests' connection errors are OSErrors.
            raise RetryableRunnerError(
                f"cannot reach the Docker engine ({function.__name__}): {error}; check DOCKER_HOST"
            ) from error


def _exposed_ports(ports: Sequence[str]) -> list[int | tuple[int, str]]:
    """Turn `80` or `53/udp` into the SDK's port forms (the SDK appends `/tcp` to strings)."""
    result: list[int | tuple[int, str]] = []
    for text in ports:
        number, _, protocol = text.strip().partition("/")
        if not number.isdigit() or protocol not in ("", "tcp", "udp", "sctp"):
            raise RunnerArgumentError(
                f"{RUNNER_NAME}: exposed_ports entry {text!r} is not a port such as 80 or 53/udp"
            )
        result.append((int(number), protocol) if protocol else int(number))
    return result


def _stdout_lines(stdout: bytes) -> bytes:
    return b"".join(line + b"\n" for line in stdout.splitlines())


def _exit_error(what: str, exit_code: int, stderr: bytes) -> RunnerArgumentError:
    excerpt = stderr[-STDERR_EXCERPT_BYTES:].decode("utf-8", "replace").strip()
    return RunnerArgumentError(
        f"{RUNNER_NAME}: {what} exited with code {exit_code}: {excerpt or 'no stderr output'}"
    )
