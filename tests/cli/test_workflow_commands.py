"""`jwp workflow validate` and `jwp job enqueue-workflow`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from typer.testing import CliRunner

from jwp.cli.main import app
from jwp.proto.jobworkerp.service import worker_pb2 as worker_service_pb2
from jwp.proto.jobworkerp.service import worker_pb2_grpc
from tests.server.workflow.documents import README_LS_WORKFLOW
from tests.support.http import Response, local_http_server
from tests.support.processes import process_alive
from tests.support.servers import ServerProcess
from tests.support.waiting import eventually_sync

from .conftest import Cli

JWP = str(Path(sys.executable).parent / "jwp")

HEADER = "document: {dsl: 0.0.1, namespace: default, name: cli-test, version: 0.0.1}\n"

ECHO_WORKFLOW = HEADER + textwrap.dedent(
    """
    do:
      - greet:
          run:
            runner: {name: COMMAND, arguments: {command: echo, args: ["$${hello {{ who }}}"]}}
          output: {as: "${.stdout}"}
      - wrap: {set: {message: "${.}", greeting: "${$greeting}"}}
    """
)

FAULTING_WORKFLOW = HEADER + textwrap.dedent(
    """
    do:
      - first: {run: {runner: {name: COMMAND, arguments: {command: "true"}}}}
      - stop: {raise: {error: {type: "https://example.com/stop", status: 409, title: halt}}}
    """
)

INVALID_WORKFLOW = HEADER + textwrap.dedent(
    """
    do:
      - EachFile:
          for: {each: f}
          do:
            - pause: {wait: 5}
    """
)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def worker_names(cli: Cli) -> list[str]:
    with grpc.insecure_channel(cli.address) as channel:
        stub = worker_pb2_grpc.WorkerServiceStub(channel)
        workers = stub.FindList(worker_service_pb2.FindWorkerListRequest())
        return [worker.data.name for worker in workers]


# workflow validate


def test_validate_accepts_readme_example(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path / "ls.yaml", README_LS_WORKFLOW)
    result = cli("workflow", "validate", str(path))
    assert f"workflow {path} is valid: ls-test 0.0.1, 2 top-level tasks" in result.stdout


def test_validate_json_output(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path / "ls.yaml", README_LS_WORKFLOW)
    assert cli.json("workflow", "validate", str(path)) == {
        "valid": True,
        "name": "ls-test",
        "version": "0.0.1",
    }


def test_validate_lists_problems_with_paths(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path / "bad.yaml", INVALID_WORKFLOW)
    result = cli("workflow", "validate", str(path), expect=2)
    lines = result.stdout.splitlines()
    assert "/do/0/EachFile/for/in: missing required property 'in'" in lines
    assert any(
        line.startswith("/do/0/EachFile/do/0/pause/wait: 5 is not a duration") for line in lines
    )
    assert result.stderr == f"error: workflow {path} is invalid: 2 problems\n"


def test_validate_json_lists_problems(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path / "bad.yaml", INVALID_WORKFLOW)
    result = cli("workflow", "validate", str(path), "--json", expect=2)
    report = json.loads(result.stdout)
    assert report["valid"] is False
    assert {"path": "/do/0/EachFile/for/in", "message": "missing required property 'in'"} in (
        report["issues"]
    )


def test_validate_missing_file(cli: Cli, tmp_path: Path) -> None:
    message = cli.error("workflow", "validate", str(tmp_path / "none.yaml"), expect=2)
    assert message == f"error: workflow file {tmp_path / 'none.yaml'} not found"


# job enqueue-workflow


def test_enqueue_workflow_prints_output_and_cleans_up(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path / "echo.yaml", ECHO_WORKFLOW)
    result = cli.json(
        "job", "enqueue-workflow", "-i", '{"who": "jwp"}', "-w", str(path),
        "--context", '{"greeting": "hi"}',
    )  # fmt: skip
    assert result["job_status"] == "SUCCESS"
    assert result["status"] == "Completed"
    assert result["output"] == {"message": "hello jwp", "greeting": "hi"}
    assert result["position"] == "/do/1/wrap"
    assert result["error_message"] is None
    assert worker_names(cli) == []


INPUT_WORKFLOW = HEADER + textwrap.dedent(
    """
    do:
      - keep: {set: {got: "${.}"}}
    """
)


def test_enqueue_workflow_input_from_file(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path / "input.yaml", INPUT_WORKFLOW)
    input_path = write(tmp_path / "input.json", '{"who": "file"}\n')

    result = cli.json("job", "enqueue-workflow", "-i", f"@{input_path}", "-w", str(path))

    assert result["output"] == {"got": {"who": "file"}}


def test_enqueue_workflow_input_double_at(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path / "input.yaml", INPUT_WORKFLOW)

    result = cli.json("job", "enqueue-workflow", "-i", "@@home", "-w", str(path))

    assert result["output"] == {"got": "@home"}


def test_job_enqueue_workflow_worker_keeps_completed(cli: Cli) -> None:
    settings = json.dumps({"json_data": INPUT_WORKFLOW})
    cli("worker", "create", "-n", "Keep", "-r", "-1", "-s", settings, "--response-type", "DIRECT")

    result = cli.json("job", "enqueue", "-w", "Keep", "-a", '{"input": "{\\"n\\": 0}"}')

    output = result["output"]
    # Completed is the enum's value 0, which proto3 does not send.
    assert output["status"] == "Completed"
    assert json.loads(output["output"]) == {"got": {"n": 0}}
    assert output["position"] == "/do/0/keep"
    assert "error_message" not in output


def test_stream_workflow_worker_keeps_completed(cli: Cli) -> None:
    settings = json.dumps({"json_data": INPUT_WORKFLOW})
    cli("worker", "create", "-n", "Keep", "-r", "-1", "-s", settings, "--response-type", "DIRECT")

    result = cli("job", "enqueue-for-stream", "-w", "Keep", "-a", '{"input": "1"}', "--json")

    chunks = [json.loads(line)["chunk"] for line in result.stdout.splitlines()[:-1]]
    assert chunks
    assert chunks[-1]["status"] == "Completed"


def test_enqueue_workflow_card_output(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path / "echo.yaml", ECHO_WORKFLOW)
    result = cli(
        "job", "enqueue-workflow", "--input", '{"who": "you"}', "--workflow-file", str(path)
    )
    assert "workflow result" in result.stdout
    assert "Completed" in result.stdout
    assert '"message": "hello you"' in result.stdout


def test_enqueue_workflow_relative_path(cli: Cli, tmp_path: Path) -> None:
    write(tmp_path / "echo.yaml", ECHO_WORKFLOW)
    previous = Path.cwd()
    os.chdir(tmp_path)
    try:
        result = cli.json("job", "enqueue-workflow", "-i", '{"who": "here"}', "-w", "echo.yaml")
    finally:
        os.chdir(previous)
    assert result["output"]["message"] == "hello here"


def test_enqueue_workflow_faulted_exits_1(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path / "fault.yaml", FAULTING_WORKFLOW)
    result = cli("job", "enqueue-workflow", "-i", "null", "-w", str(path), "--json", expect=1)
    record = json.loads(result.stdout)
    assert record["status"] == "Faulted"
    assert record["position"] == "/do/1/stop"
    assert record["output"]["status"] == 409
    assert result.stderr.startswith(f"error: workflow {record['id']} ended Faulted at /do/1/stop: ")
    assert worker_names(cli) == []


def test_enqueue_workflow_invalid_document_exits_2(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path / "bad.yaml", INVALID_WORKFLOW)
    message = cli.error("job", "enqueue-workflow", "-i", "null", "-w", str(path), expect=2)
    assert "/do/0/EachFile/for/in: missing required property 'in'" in message
    assert worker_names(cli) == []


def test_enqueue_workflow_rejects_bad_context(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path / "echo.yaml", ECHO_WORKFLOW)
    message = cli.error(
        "job", "enqueue-workflow", "-i", "{}", "-w", str(path), "--context", "[1]", expect=2
    )
    assert message == 'error: --context must be a JSON object of variables, e.g. \'{"name": "x"}\''


def test_enqueue_workflow_rejects_unserved_channel(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path / "echo.yaml", ECHO_WORKFLOW)
    message = cli.error(
        "job", "enqueue-workflow", "-i", "{}", "-w", str(path), "-c", "nowhere", expect=1
    )
    assert "does not run channel 'nowhere'" in message
    assert worker_names(cli) == []


def test_enqueue_workflow_from_url(cli: Cli) -> None:
    with local_http_server() as http:
        http.routes["/echo.yaml"] = Response(body=ECHO_WORKFLOW.encode())
        result = cli.json(
            "job", "enqueue-workflow", "-i", '{"who": "url"}', "-w", http.url("/echo.yaml")
        )
        assert http.requests == [("GET", "/echo.yaml")]
    assert result["output"]["message"] == "hello url"
    assert worker_names(cli) == []


def test_enqueue_workflow_job_timeout(cli: Cli, tmp_path: Path) -> None:
    nap = "{run: {runner: {name: COMMAND, arguments: {command: sleep, args: ['30']}}}}"
    path = write(tmp_path / "slow.yaml", HEADER + f"do:\n  - nap: {nap}\n")
    started = time.monotonic()
    message = cli.error(
        "job", "enqueue-workflow", "-i", "null", "-w", str(path), "--timeout", "500", expect=1
    )
    assert time.monotonic() - started < 20
    assert "failed with MAX_RETRY" in message
    assert "timed out after 500 ms" in message
    assert worker_names(cli) == []


# Ctrl+C, with the real `jwp` program


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path, {"SQLITE_URL": f"sqlite://{tmp_path / 'jwp.sqlite3'}"})
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_ctrl_c_cancels_workflow_and_deletes_worker(
    server_process: ServerProcess, tmp_path: Path
) -> None:
    pid_file = tmp_path / "sleep.pid"
    script = f"echo $$ > {pid_file}; exec sleep 60"
    arguments = f"{{command: sh, args: ['-c', '{script}']}}"
    nap = f"{{run: {{runner: {{name: COMMAND, arguments: {arguments}}}}}}}"
    path = write(tmp_path / "sleep.yaml", HEADER + f"do:\n  - nap: {nap}\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith("JWP_")}
    command = [JWP, "--address", server_process.address, "job", "enqueue-workflow"]
    with subprocess.Popen(
        [*command, "-i", "null", "-w", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as client:
        try:
            eventually_sync(
                lambda: pid_file.exists() and pid_file.read_text().strip(),
                timeout_s=30,
                message="the workflow's command to start",
            )
            sleep_pid = int(pid_file.read_text())
            assert len(worker_names(Cli(server_process.address))) == 2
            client.send_signal(signal.SIGINT)
            _, stderr = client.communicate(timeout=30)
        finally:
            if client.poll() is None:
                client.kill()
                client.wait()
        exit_code = client.returncode

    assert exit_code == 130
    assert "Traceback" not in stderr
    eventually_sync(
        lambda: not process_alive(sleep_pid) and worker_names(Cli(server_process.address)) == [],
        timeout_s=30,
        message="the sleep to stop and the workers to be deleted",
    )


def test_validate_lines_are_not_wrapped(tmp_path: Path) -> None:
    document = tmp_path / "long.yaml"
    document.write_text(
        "document: {dsl: 0.0.1, namespace: default, name: long, version: 0.0.1}\n"
        "do:\n"
        "  - AFairlyLongTaskNameThatPushesTheLinePastEightyColumns:\n"
        "      wait: P1Y\n"
    )

    result = CliRunner().invoke(app, ["workflow", "validate", str(document)], env={"COLUMNS": "80"})

    assert result.exit_code == 2
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("/do/0/AFairlyLongTaskNameThatPushesTheLinePastEightyColumns/wait:")
    assert lines[0].endswith("use days (D) or weeks (W)")


EXAMPLE_LS = Path(__file__).parents[2] / "examples" / "ls.yaml"


def test_example_ls_workflow_runs(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").touch()
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.txt").touch()

    validated = cli("workflow", "validate", str(EXAMPLE_LS)).stdout
    result = cli.json(
        "job", "enqueue-workflow", "-i", json.dumps(str(tmp_path)), "-w", str(EXAMPLE_LS)
    )

    assert "is valid: ls 0.1.0" in validated
    assert result["status"] == "Completed"
    assert result["output"] == {"empty": [], "photos": ["cat.jpg"]}
