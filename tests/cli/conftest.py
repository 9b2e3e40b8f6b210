"""Fixtures for the CLI tests: `jwp` run in-process against a server in a thread."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from typer.testing import CliRunner, Result

from jwp.cli.main import app
from jwp.proto.jobworkerp.data import worker_pb2
from jwp.proto.jobworkerp.service import worker_pb2_grpc
from tests.support.servers import ThreadedServer

# Wide enough that Rich never folds the values that tests look for.
CONSOLE_COLUMNS = "250"

ECHO_ARGS = '{"command":"echo","args":["Hello","World"]}'


@dataclass
class Cli:
    """Runs `jwp --address <server> ...` in-process and checks the exit code."""

    address: str

    def __call__(self, *args: str, expect: int = 0, stdin: str | None = None) -> Result:
        result = CliRunner().invoke(
            app,
            ["--address", self.address, *args],
            input=stdin,
            env={"COLUMNS": CONSOLE_COLUMNS, "JWP_TRACEBACK": None},
        )
        assert result.exit_code == expect, (
            f"jwp {' '.join(args)} exited with {result.exit_code}, expected {expect}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
        return result

    def json(self, *args: str) -> Any:
        """Run a command with --json and return its parsed stdout."""
        return json.loads(self(*args, "--json").stdout)

    def error(self, *args: str, expect: int) -> str:
        """Run a command that must fail, check it printed one error line, and return that line."""
        result = self(*args, expect=expect)
        assert result.stderr.startswith("error: "), result.stderr
        assert result.stderr.count("\n") == 1, result.stderr
        return result.stderr.strip()

    def create_worker(self, name: str, *options: str) -> str:
        """Create a COMMAND worker and return its id."""
        created = self.json("worker", "create", "--name", name, "--runner-id", "1", *options)
        return str(created["worker_id"])


@pytest.fixture
def cli(thread_server: ThreadedServer) -> Cli:
    return Cli(thread_server.address)


@pytest.fixture
def raw_workers(thread_server: ThreadedServer) -> Iterator[worker_pb2_grpc.WorkerServiceStub]:
    """A plain gRPC stub, to check what the CLI stored without going through the CLI."""
    channel = grpc.insecure_channel(thread_server.address)
    try:
        yield worker_pb2_grpc.WorkerServiceStub(channel)
    finally:
        channel.close()


def stored_worker(stub: worker_pb2_grpc.WorkerServiceStub, worker_id: str) -> worker_pb2.Worker:
    response = stub.Find(worker_pb2.WorkerId(value=int(worker_id)))
    assert response.HasField("data"), f"worker {worker_id} not stored"
    return response.data


@pytest.fixture
def closed_address() -> str:
    """A loopback address where nothing listens: a port that was just free."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"127.0.0.1:{port}"
