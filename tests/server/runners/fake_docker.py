"""A fake Docker engine on loopback: the subset of the Engine API that the DOCKER runner uses.

No Docker engine runs here, so this server takes its place. It serves,
under any `/v1.xx` prefix: version, image inspect and create (pull),
container create, start, wait, logs, inspect, kill and delete, and exec
create, start and inspect. A "container" runs its entrypoint and command
as a local subprocess with the container's `Env` on top of PATH, so the
output is real; images, volumes and users are only recorded. A container
with a TTY and no command stays up without a process, as a shell would.

Images whose name starts with `missing/` cannot be pulled. What the real
engine does beyond this subset (networks, image layers, isolation) was not
checked here.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.http_server import Request, Response

API_VERSION = "1.45"

# Delay between the headers and the output of an exec start response, in s;
# see `_exec_start` for why.
EXEC_START_DELAY_S = 0.05
STDOUT, STDERR = 1, 2


@dataclass
class FakeContainer:
    id: str
    config: dict[str, Any]
    process: asyncio.subprocess.Process | None = None
    output: list[tuple[int, bytes]] = field(default_factory=list)
    exit_code: int | None = None
    started: bool = False
    removed: bool = False
    killed: bool = False
    finished: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class FakeExec:
    id: str
    container_id: str
    config: dict[str, Any]
    exit_code: int | None = None


class FakeDockerEngine:
    """The request handler and the state of the fake engine."""

    def __init__(self, images: tuple[str, ...] = ()) -> None:
        self.images: set[str] = set(images)
        self.pulls: list[str] = []
        self.containers: dict[str, FakeContainer] = {}
        self.execs: dict[str, FakeExec] = {}
        self._ids = itertools.count(1)
        self._collectors: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        """Kill the processes of containers still running and wait for them."""
        for container in self.containers.values():
            self._stop(container)
        if self._collectors:
            await asyncio.wait(self._collectors)

    async def handle(self, request: Request) -> Response:
        path = re.sub(r"^/v1\.\d+", "", request.path)
        for method, pattern, handler in self._routes():
            match = re.fullmatch(pattern, path)
            if match and request.method == method:
                response: Response = await handler(request, *match.groups())
                return response
        return _error(404, f"page not found: {request.method} {path}")

    def _routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("GET", r"/version", self._version),
            ("GET", r"/_ping", self._ping),
            ("GET", r"/images/(.+)/json", self._inspect_image),
            ("POST", r"/images/create", self._pull),
            ("POST", r"/containers/create", self._create),
            ("POST", r"/containers/([^/]+)/start", self._start),
            ("POST", r"/containers/([^/]+)/wait", self._wait),
            ("POST", r"/containers/([^/]+)/kill", self._kill),
            ("GET", r"/containers/([^/]+)/logs", self._logs),
            ("GET", r"/containers/([^/]+)/json", self._inspect_container),
            ("DELETE", r"/containers/([^/]+)", self._delete),
            ("POST", r"/containers/([^/]+)/exec", self._exec_create),
            ("POST", r"/exec/([^/]+)/start", self._exec_start),
            ("GET", r"/exec/([^/]+)/json", self._exec_inspect),
        ]

    def _new_id(self) -> str:
        return f"{next(self._ids):064x}"

    async def _version(self, request: Request) -> Response:
        return Response.json(
            {"ApiVersion": API_VERSION, "MinAPIVersion": "1.24", "Version": "fake", "Os": "linux"}
        )

    async def _ping(self, request: Request) -> Response:
        return Response(200, [("api-version", API_VERSION)], b"OK")

    def _has_image(self, name: str) -> bool:
        """Whether the image is present; a name without a tag means its `latest` tag."""
        return name in self.images or f"{name}:latest" in self.images

    async def _inspect_image(self, request: Request, name: str) -> Response:
        if not self._has_image(name):
            return _error(404, f"No such image: {name}")
        return Response.json({"Id": f"sha256:{abs(hash(name)):064x}", "RepoTags": [name]})

    async def _pull(self, request: Request) -> Response:
        query = dict(request.query)
        image = f"{query['fromImage']}:{query.get('tag') or 'latest'}"
        self.pulls.append(image)
        if image.startswith("missing/"):
            return _error(404, f"pull access denied for {query['fromImage']}")
        self.images.add(image)
        progress = b'{"status":"Pulling from fake"}\r\n{"status":"Downloaded newer image"}\r\n'
        return Response(200, [("content-type", "application/json")], progress)

    async def _create(self, request: Request) -> Response:
        config = request.json()
        image = config["Image"]
        if not self._has_image(image):
            return _error(404, f"No such image: {image}")
        container = FakeContainer(self._new_id(), config)
        self.containers[container.id] = container
        return Response.json({"Id": container.id, "Warnings": []}, status=201)

    async def _start(self, request: Request, container_id: str) -> Response:
        container = self.containers.get(container_id)
        if container is None:
            return _error(404, f"No such container: {container_id}")
        container.started = True
        argv = [*(container.config.get("Entrypoint") or []), *(container.config.get("Cmd") or [])]
        if argv:
            container.process = await _spawn(argv, container.config)
            collector = asyncio.get_running_loop().create_task(self._collect(container))
            self._collectors.add(collector)
            collector.add_done_callback(self._collectors.discard)
        elif not container.config.get("Tty"):
            container.exit_code = 0
            container.finished.set()
        return Response(204)

    async def _collect(self, container: FakeContainer) -> None:
        assert container.process is not None
        container.output, container.exit_code = await _communicate(container.process)
        container.finished.set()

    async def _wait(self, request: Request, container_id: str) -> Response:
        container = self.containers[container_id]
        await container.finished.wait()
        return Response.json({"StatusCode": container.exit_code, "Error": None})

    async def _kill(self, request: Request, container_id: str) -> Response:
        self._stop(self.containers[container_id])
        return Response(204)

    async def _logs(self, request: Request, container_id: str) -> Response:
        container = self.containers[container_id]
        query = dict(request.query)
        wanted = {STDOUT} if query.get("stdout") in ("1", "True", "true") else set()
        if query.get("stderr") in ("1", "True", "true"):
            wanted.add(STDERR)
        frames = b"".join(_frame(kind, data) for kind, data in container.output if kind in wanted)
        return Response(
            200, [("content-type", "application/vnd.docker.multiplexed-stream")], frames
        )

    async def _inspect_container(self, request: Request, container_id: str) -> Response:
        container = self.containers.get(container_id)
        if container is None or container.removed:
            return _error(404, f"No such container: {container_id}")
        running = container.started and not container.finished.is_set()
        state = {"Running": running, "ExitCode": container.exit_code or 0}
        return Response.json({"Id": container.id, "Config": container.config, "State": state})

    async def _delete(self, request: Request, container_id: str) -> Response:
        container = self.containers.get(container_id)
        if container is None or container.removed:
            return _error(404, f"No such container: {container_id}")
        running = container.started and not container.finished.is_set()
        if running and dict(request.query).get("force") not in ("1", "True", "true"):
            return _error(409, "cannot remove a running container; stop it or use force")
        self._stop(container)
        container.removed = True
        return Response(204)

    def _stop(self, container: FakeContainer) -> None:
        if container.process is not None and container.process.returncode is None:
            container.killed = True
            container.process.kill()
        elif not container.finished.is_set():
            container.killed = True
            container.exit_code = 137
            container.finished.set()

    async def _exec_create(self, request: Request, container_id: str) -> Response:
        container = self.containers.get(container_id)
        if container is None or container.removed or container.finished.is_set():
            return _error(409, f"container {container_id} is not running")
        exec_ = FakeExec(self._new_id(), container_id, request.json())
        self.execs[exec_.id] = exec_
        return Response.json({"Id": exec_.id}, status=201)

    async def _exec_start(self, request: Request, exec_id: str) -> Response:
        exec_ = self.execs[exec_id]
        container_config = self.containers[exec_.container_id].config
        env = [*(container_config.get("Env") or []), *(exec_.config.get("Env") or [])]
        config = {"Env": env, "WorkingDir": exec_.config.get("WorkingDir")}

        async def stream() -> AsyncIterator[bytes]:
            # The SDK parses the headers with a buffered reader and then reads
            # the frames from the socket beneath it, so frames that arrive
            # with the headers are lost in that buffer. A real engine starts
            # the process only now, which takes longer than the delay here.
            await asyncio.sleep(EXEC_START_DELAY_S)
            process = await _spawn(exec_.config["Cmd"], config)
            output, exec_.exit_code = await _communicate(process)
            for kind, data in output:
                yield _frame(kind, data)

        content_type = "application/vnd.docker.multiplexed-stream"
        return Response(200, [("content-type", content_type)], stream(), raw_stream=True)

    async def _exec_inspect(self, request: Request, exec_id: str) -> Response:
        exec_ = self.execs[exec_id]
        return Response.json(
            {"ID": exec_id, "Running": exec_.exit_code is None, "ExitCode": exec_.exit_code}
        )


def _error(status: int, message: str) -> Response:
    return Response.json({"message": message}, status=status)


def _frame(kind: int, data: bytes) -> bytes:
    return struct.pack(">BxxxL", kind, len(data)) + data


async def _spawn(argv: list[str], config: dict[str, Any]) -> asyncio.subprocess.Process:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    for item in config.get("Env") or []:
        name, _, value = item.partition("=")
        env[name] = value
    working_dir = config.get("WorkingDir") or None
    if working_dir and not await asyncio.to_thread(Path(working_dir).is_dir):
        working_dir = None  # a folder inside the image, which the fake does not have
    return await asyncio.create_subprocess_exec(
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=working_dir,
    )


async def _communicate(process: asyncio.subprocess.Process) -> tuple[list[tuple[int, bytes]], int]:
    stdout, stderr = await process.communicate()
    output = []
    if stdout:
        output.append((STDOUT, stdout))
    if stderr:
        output.append((STDERR, stderr))
    return output, process.returncode if process.returncode is not None else -1
