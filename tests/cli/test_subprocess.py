"""The installed `jwp` program against a real `jwp serve` process."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from tests.support.servers import ServerProcess
from tests.support.tls import make_certificates
from tests.support.waiting import eventually_sync

JWP = str(Path(sys.executable).parent / "jwp")
# The RDB poll interval of the test server in ms; periodic intervals must exceed it.
FETCH_INTERVAL_MS = 100
LINE_TIMEOUT_S = 30


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(
        tmp_path,
        {
            "SQLITE_URL": f"sqlite://{tmp_path / 'jwp.sqlite3'}",
            "JOB_QUEUE_FETCH_INTERVAL": str(FETCH_INTERVAL_MS),
        },
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _client_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("JWP_")}
    env["COLUMNS"] = "200"
    return env


def jwp(address: str, *args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
    """Run the `jwp` program and check its exit code."""
    completed = subprocess.run(
        [JWP, "--address", address, *args],
        capture_output=True,
        text=True,
        env=_client_env(),
        timeout=60,
    )
    assert completed.returncode == expect, (
        f"jwp {' '.join(args)} exited with {completed.returncode}, expected {expect}\n"
        f"stdout:\n{completed.stdout}\nstderr:\n{completed.stderr}"
    )
    return completed


@contextlib.contextmanager
def _running_cli(*arguments: str) -> Iterator[subprocess.Popen[str]]:
    """Start `jwp ARGUMENTS` with piped output, and kill it if the test leaves it running."""
    with subprocess.Popen(
        [JWP, *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_client_env(),
    ) as process:
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


class LineReader:
    """Collects the lines of a pipe in a thread, so a test can wait for the next one."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line)

    def join(self) -> None:
        """Wait until the pipe reached its end, after the process exited."""
        self._thread.join(timeout=LINE_TIMEOUT_S)

    def next_line(self, timeout_s: float = LINE_TIMEOUT_S) -> str:
        try:
            return self.lines.get(timeout=timeout_s)
        except queue.Empty:
            raise AssertionError(f"no output line within {timeout_s} s") from None

    def wait_for(self, text: str, timeout_s: float = LINE_TIMEOUT_S) -> str:
        while True:
            line = self.next_line(timeout_s)
            if text in line:
                return line


def test_direct_echo_flow(server_process: ServerProcess) -> None:
    address = server_process.address
    jwp(
        address, "worker", "create", "--name", "Echo", "--runner-id", "1", "--settings", "",
        "--response-type", "DIRECT", "--store-success", "--store-failure",
    )  # fmt: skip

    enqueued = jwp(
        address, "job", "enqueue", "--worker", "Echo",
        "--args", '{"command":"echo","args":["Hello","World"]}',
    )  # fmt: skip

    assert "SUCCESS" in enqueued.stdout
    assert "Hello World" in enqueued.stdout
    assert enqueued.stderr == ""


# Linux limits one command-line argument to 32 pages (MAX_ARG_STRLEN, 128 KiB
# with 4 KiB pages), so args this long can only come from a file or stdin.
MAX_ARG_STRLEN = 32 * 4096


def test_args_over_command_line_limit_from_stdin(server_process: ServerProcess) -> None:
    address = server_process.address
    jwp(address, "worker", "create", "--name", "Count", "--runner-id", "1")
    words = [f"word{number:05}" for number in range(20_000)]
    args = json.dumps({"command": "sh", "args": ["-c", 'echo "$#"', "sh", *words]})

    completed = subprocess.run(
        [JWP, "--address", address, "job", "enqueue", "-w", "Count", "--args", "@-", "--json"],
        input=args,
        capture_output=True,
        text=True,
        env=_client_env(),
        timeout=60,
    )

    assert len(args.encode()) > MAX_ARG_STRLEN
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert result["status"] == "SUCCESS"
    assert result["output"]["stdout"] == "20000"


def test_sleep_worker_listen_flow(server_process: ServerProcess) -> None:
    address = server_process.address
    jwp(
        address, "worker", "create", "--name", "SleepWorker", "--description", "",
        "--runner-id", "1", "--settings", "", "--response-type", "NO_RESULT",
        "--broadcast-results", "--store-success", "--store-failure",
    )  # fmt: skip
    enqueued = jwp(
        address, "job", "enqueue", "--worker", "SleepWorker",
        "--args", '{"command":"sleep","args":["0.2"]}',
    )  # fmt: skip
    job_id = enqueued.stdout.removeprefix("job id: ").strip()

    listened = jwp(
        address, "job-result", "listen", "--job-id", job_id, "--timeout", "70000",
        "--worker", "SleepWorker", "--json",
    )  # fmt: skip

    result = json.loads(listened.stdout)
    assert result["job_id"] == job_id
    assert result["status"] == "SUCCESS"
    assert result["output"]["exit_code"] == 0


@pytest.mark.parametrize(
    ("json_output", "marker"), [(True, '"status":"SUCCESS"'), (False, "SUCCESS")]
)
def test_listen_by_worker_until_sigint(
    server_process: ServerProcess, json_output: bool, marker: str
) -> None:
    address = server_process.address
    jwp(
        address, "worker", "create", "--name", "PeriodicEchoWorker", "--description", "",
        "--runner-id", "1", "--settings", "", "--periodic", str(FETCH_INTERVAL_MS * 3),
        "--response-type", "NO_RESULT", "--store-success", "--store-failure",
        "--broadcast-results",
    )  # fmt: skip
    command = [JWP, "--address", address, "job-result", "listen-by-worker"]
    command += ["--worker", "PeriodicEchoWorker", *(["--json"] if json_output else [])]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_client_env()
    ) as listener:
        try:
            stdout = LineReader(listener.stdout)  # type: ignore[arg-type]
            stderr = LineReader(listener.stderr)  # type: ignore[arg-type]
            assert stderr.next_line() == "listening... (Ctrl+C to stop)\n"
            enqueued = jwp(
                address, "job", "enqueue", "--worker", "PeriodicEchoWorker",
                "--args", '{"command":"echo","args":["Hello", "World", "!"]}',
                "--run-after-time", "1000", "--json",
            )  # fmt: skip
            job_id = json.loads(enqueued.stdout)["job_id"]

            line = stdout.wait_for(marker)
            listener.send_signal(signal.SIGINT)
            exit_code = listener.wait(timeout=LINE_TIMEOUT_S)
        finally:
            if listener.poll() is None:
                listener.kill()
                listener.wait()
        stdout.join()
        stderr.join()

    assert exit_code == 0
    assert stderr.lines.empty()
    if json_output:
        result = json.loads(line)
        assert result["job_id"] == job_id
        assert result["output"]["stdout"] == "Hello World !"
    jwp(address, "job", "delete", "--id", job_id)


@pytest.mark.parametrize("command", ["enqueue", "enqueue-for-stream"])
def test_ctrl_c_while_waiting_names_job(server_process: ServerProcess, command: str) -> None:
    address = server_process.address
    jwp(
        address, "worker", "create", "--name", "Waits", "--runner-id", "1",
        "--channel", "nobody-serves-this", "--response-type", "DIRECT",
    )  # fmt: skip
    with _running_cli(
        "--address", address, "job", command, "-w", "Waits", "-a", '{"command":"true"}'
    ) as waiting:
        stderr = LineReader(waiting.stderr)  # type: ignore[arg-type]
        warning = stderr.next_line()
        queued = eventually_sync(
            lambda: json.loads(
                jwp(
                    address, "job", "find-queue-list", "--channel", "nobody-serves-this",
                    "--json",
                ).stdout
            ),
            message="job queued",
        )  # fmt: skip
        waiting.send_signal(signal.SIGINT)
        exit_code = waiting.wait(timeout=LINE_TIMEOUT_S)
        stderr.join()

    job_id = queued[0]["id"]
    assert "does not run channel 'nobody-serves-this'" in warning
    assert "Stop waiting with Ctrl+C" in warning
    assert exit_code == 130
    if command == "enqueue-for-stream":
        assert stderr.next_line().startswith(f"job id: {job_id} ")
    message = stderr.next_line()
    assert message.startswith(f"error: stopped waiting for job {job_id};")
    assert f"jwp job delete --id {job_id}" in message
    assert stderr.lines.empty()


def test_ctrl_c_during_enqueue_workflow_cleans_up(
    server_process: ServerProcess, tmp_path: Path
) -> None:
    address = server_process.address
    started = tmp_path / "started"
    workflow = tmp_path / "slow.yaml"
    workflow.write_text(
        "document: {dsl: 0.0.1, namespace: test, name: slow, version: 0.1.0}\n"
        "do:\n"
        "  - Wait:\n"
        "      run:\n"
        "        runner:\n"
        "          name: COMMAND\n"
        f"          arguments: {{command: sh, args: ['-c', 'touch {started}; sleep 30']}}\n",
        encoding="utf-8",
    )
    with _running_cli(
        "--address", address, "job", "enqueue-workflow", "-i", "null", "-w", str(workflow)
    ) as waiting:
        eventually_sync(started.exists, message="workflow step started")
        waiting.send_signal(signal.SIGINT)
        _, stderr = waiting.communicate(timeout=LINE_TIMEOUT_S)

    assert waiting.returncode == 130
    assert re.fullmatch(
        r"error: stopped waiting: workflow job \d+ was cancelled and its temporary worker "
        r"deleted\n",
        stderr,
    ), stderr
    assert json.loads(jwp(address, "worker", "list", "--json").stdout) == []
    assert json.loads(jwp(address, "job", "status-all", "--json").stdout) == []


def test_server_stop_during_direct_wait(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, {"JWP_SHUTDOWN_GRACE_MS": "0"})
    server.start()
    started = tmp_path / "started"
    try:
        jwp(server.address, "worker", "create", "--name", "Direct", "--runner-id", "1")
        args = json.dumps({"command": "sh", "args": ["-c", f"touch {started}; sleep 30"]})
        with _running_cli(
            "--address", server.address, "job", "enqueue", "-w", "Direct", "-a", args
        ) as waiting:
            eventually_sync(started.exists, message="DIRECT job started")
            server.signal(signal.SIGTERM)
            _, stderr = waiting.communicate(timeout=LINE_TIMEOUT_S)
        assert server.wait() == 0
    finally:
        server.kill()

    assert waiting.returncode == 3
    assert stderr.startswith("error: ")
    assert stderr.count("\n") == 1
    assert "stopped before job" in stderr
    assert "Traceback" not in stderr


def test_server_killed_during_direct_wait(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, {})
    server.start()
    started = tmp_path / "started"
    try:
        jwp(server.address, "worker", "create", "--name", "Direct", "--runner-id", "1")
        # The job writes its pid, so the test can stop the command that the
        # killed server leaves behind.
        args = json.dumps({"command": "sh", "args": ["-c", f"echo $$ > {started}; exec sleep 30"]})
        with _running_cli(
            "--address", server.address, "job", "enqueue", "-w", "Direct", "-a", args
        ) as waiting:
            eventually_sync(
                lambda: started.exists() and started.read_text().strip(),
                message="DIRECT job started",
            )
            server.kill()
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(started.read_text()), signal.SIGKILL)
            _, stderr = waiting.communicate(timeout=LINE_TIMEOUT_S)
    finally:
        server.kill()

    assert waiting.returncode == 3
    assert stderr.count("\n") == 1, stderr
    assert stderr.startswith(f"error: lost the connection to the jwp server at {server.address}")
    assert "JWP_TLS_CERT_FILE" not in stderr
    assert re.search(r"Job (\d+) was queued before that; .*`jwp job status --id \1`", stderr)


def test_unreachable_server(tmp_path: Path) -> None:
    completed = jwp("127.0.0.1:1", "worker", "list", expect=3)

    assert completed.stderr.startswith("error: cannot reach a jwp server at 127.0.0.1:1")
    assert completed.stderr.count("\n") == 1
    assert completed.stdout == ""


def test_import_leaves_grpc_and_rich_out() -> None:
    code = (
        "import sys, jwp.cli.main; "
        "print([name for name in ('grpc', 'rich', 'google.protobuf') if name in sys.modules])"
    )

    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )

    assert completed.stdout.strip() == "[]"


def test_https_address_to_plaintext_server(server_process: ServerProcess) -> None:
    completed = jwp(f"https://{server_process.address}", "job", "count", expect=3)

    assert completed.stderr.count("\n") == 1
    assert "the server does not use TLS" in completed.stderr
    assert "host:port or http://host:port" in completed.stderr


def test_tls_server_needs_https_and_trusted_ca(tmp_path: Path) -> None:
    certificates = make_certificates(tmp_path)
    server = ServerProcess(
        tmp_path,
        {
            "JWP_TLS_CERT_FILE": str(certificates.server_cert),
            "JWP_TLS_KEY_FILE": str(certificates.server_key),
        },
    )
    server.start()
    try:
        plaintext = jwp(server.address, "job", "count", expect=3)
        untrusted = jwp(f"https://{server.address}", "job", "count", expect=3)
        trusted = subprocess.run(
            [JWP, "--address", f"https://{server.address}", "job", "count"],
            capture_output=True,
            text=True,
            env={**_client_env(), "JWP_TLS_CA_FILE": str(certificates.ca)},
            timeout=60,
        )
    finally:
        server.stop()

    assert "give the address as https://host:port" in plaintext.stderr
    assert "set JWP_TLS_CA_FILE" in untrusted.stderr
    assert untrusted.stderr.count("\n") == 1
    assert trusted.returncode == 0, trusted.stderr
    assert trusted.stdout.strip() == "0"
