"""`jwp runner create|delete`, `jwp job enqueue-for-stream` and `jwp job-result listen-stream`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.cli.conftest import ECHO_ARGS, Cli
from tests.cli.test_subprocess import JWP, LineReader, _client_env
from tests.server.runners.mcp_support import stdio_definition
from tests.support.servers import ServerProcess, ThreadedServer

HELLO_PLUGIN = Path(__file__).resolve().parents[2] / "plugins" / "hello_runner"

# Prints "line 1" … "line 3"; after each line it waits for the file ack-N in the
# folder given as its argument, so a line is printed only after the one before
# was read.
HANDSHAKE_SCRIPT = """
import os, sys, time
for number in range(1, 4):
    print(f"line {number}", flush=True)
    while not os.path.exists(os.path.join(sys.argv[1], f"ack-{number}")):
        time.sleep(0.01)
"""

# Waits up to 60 s for the file given as its argument, then prints a line.
WAIT_FOR_FILE_SCRIPT = """
import os, sys, time
deadline = time.monotonic() + 60
while not os.path.exists(sys.argv[1]) and time.monotonic() < deadline:
    time.sleep(0.01)
print("went on", flush=True)
"""


def command_args_json(*argv: str) -> str:
    return json.dumps({"command": argv[0], "args": list(argv[1:])})


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# runner create and delete


def test_runner_create_mcp_from_file(cli: Cli, tmp_path: Path) -> None:
    definition = tmp_path / "tools.toml"
    definition.write_text(stdio_definition())

    created = cli.json(
        "runner", "create", "--name", "tools", "--description", "test tools",
        "--runner-type", "MCP_SERVER", "--definition", f"@{definition}",
    )  # fmt: skip

    runner_id = created["runner_id"]
    found = cli.json("runner", "find", "--id", runner_id)
    assert found["name"] == "tools"
    assert found["runner_type"] == "MCP_SERVER"
    assert json.loads(found["definition"])["transport"] == "stdio"
    # The flow of the jobworkerp README: a static DIRECT worker calls a tool.
    cli(
        "worker", "create", "--name", "TimeInfo", "--description", "", "--runner-id", runner_id,
        "--response-type", "DIRECT", "--settings", "", "--use-static",
    )  # fmt: skip
    result = cli.json(
        "job", "enqueue", "--worker", "TimeInfo",
        "--args", '{"tool_name": "add", "arg_json": "{\\"a\\": 2, \\"b\\": 5}"}',
    )  # fmt: skip
    assert result["status"] == "SUCCESS"
    assert result["output"]["content"] == [{"text": {"text": "7"}}]
    pids = {
        cli.json("job", "enqueue", "-w", "TimeInfo", "-a", '{"tool_name": "pid"}')["output"][
            "content"
        ][0]["text"]["text"]
        for _ in range(2)
    }
    assert len(pids) == 1  # one server process serves every job of the static worker


def test_runner_create_plugin_and_delete(cli: Cli) -> None:
    created = cli(
        "runner", "create", "-n", "Greeter", "-r", "plugin",
        "--definition", str(HELLO_PLUGIN),
    )  # fmt: skip
    runner_id = created.stdout.removeprefix("runner id: ").strip()
    assert runner_id.isdigit()

    deleted = cli("runner", "delete", "--id", runner_id)

    assert deleted.stdout.strip() == f"runner {runner_id} deleted"
    message = cli.error("runner", "delete", "--id", runner_id, expect=1)
    assert f"runner {runner_id} not found" in message
    assert cli.error("runner", "find", "--id", runner_id, expect=1)


def test_runner_create_errors(cli: Cli, tmp_path: Path) -> None:
    bad = cli.error(
        "runner", "create", "-n", "bad", "-r", "MCP_SERVER", "--definition", "protocol = 'x'",
        expect=1,
    )  # fmt: skip
    missing_file = cli.error(
        "runner", "create", "-n", "bad", "-r", "MCP_SERVER",
        "--definition", f"@{tmp_path / 'absent.toml'}",
        expect=2,
    )  # fmt: skip
    taken = cli.error(
        "runner", "create", "-n", "COMMAND", "-r", "PLUGIN", "--definition", str(HELLO_PLUGIN),
        expect=1,
    )  # fmt: skip
    wrong_type = cli("runner", "create", "-n", "x", "-r", "COMMAND", "--definition", "y", expect=2)
    builtin = cli.error("runner", "delete", "--id", "1", expect=1)

    assert "INVALID_ARGUMENT" in bad
    assert "transport 'x' is not one of" in bad
    assert "cannot read --definition file" in missing_file
    assert "ALREADY_EXISTS" in taken
    assert "COMMAND" in wrong_type.stderr
    assert "reserved for runners built in" in builtin
    assert "cannot be deleted" in builtin


# job enqueue-for-stream and job-result listen-stream


def test_enqueue_for_stream_prints_chunks_then_result(cli: Cli) -> None:
    cli.create_worker("Echo", "--response-type", "DIRECT")

    result = cli("job", "enqueue-for-stream", "--worker", "Echo", "--args", ECHO_ARGS)

    lines = result.stdout.splitlines()
    assert lines[0] == '{"stdout": "Hello World"}'
    assert lines[1].startswith('{"exit_code": 0')
    assert "SUCCESS" in result.stdout


def test_enqueue_for_stream_json(cli: Cli) -> None:
    cli.create_worker("Echo", "--response-type", "DIRECT")
    args = command_args_json("sh", "-c", "echo one; echo two >&2; echo three")

    result = cli("job", "enqueue-for-stream", "-w", "Echo", "-a", args, "--json")

    records = json_lines(result.stdout)
    chunks = [record["chunk"] for record in records if "chunk" in record]
    assert {"stdout": "one"} in chunks
    assert {"stderr": "two"} in chunks
    assert {"stdout": "three"} in chunks
    assert chunks.index({"stdout": "one"}) < chunks.index({"stdout": "three"})
    assert chunks[-1]["exit_code"] == 0  # type: ignore[index]
    final = records[-1]["result"]
    assert final["status"] == "SUCCESS"  # type: ignore[index]
    assert final["output"] is None  # type: ignore[index]
    assert final["request_streaming"] is True  # type: ignore[index]


def test_enqueue_for_stream_args_from_file(cli: Cli, tmp_path: Path) -> None:
    cli.create_worker("Echo", "--response-type", "DIRECT")
    path = tmp_path / "args.json"
    path.write_text(ECHO_ARGS, encoding="utf-8")

    result = cli("job", "enqueue-for-stream", "-w", "Echo", "-a", f"@{path}", "--json")

    records = json_lines(result.stdout)
    assert records[0] == {"chunk": {"stdout": "Hello World"}}
    assert records[-1]["result"]["status"] == "SUCCESS"  # type: ignore[index]


def test_enqueue_for_stream_plugin_characters(cli: Cli) -> None:
    runner_id = cli.json(
        "runner", "create", "-n", "Greeter", "-r", "PLUGIN", "--definition", str(HELLO_PLUGIN)
    )["runner_id"]
    cli("worker", "create", "-n", "greet", "-r", runner_id, "-s", '{"name": "cli"}')

    result = cli("job", "enqueue-for-stream", "-w", "greet", "-a", '{"arg": "you"}', "--json")

    records = json_lines(result.stdout)
    text = "".join(record["chunk"]["data"] for record in records[:-1])  # type: ignore[index]
    assert text == "Hello, you! (cli)"
    assert records[-1]["result"]["status"] == "SUCCESS"  # type: ignore[index]


def test_enqueue_for_stream_failed_job_exits_1(cli: Cli) -> None:
    cli.create_worker("Echo", "--response-type", "DIRECT")

    result = cli(
        "job", "enqueue-for-stream", "-w", "Echo", "-a", '{"command": "/no/such/program"}',
        expect=1,
    )  # fmt: skip

    assert "/no/such/program" in result.stdout
    assert "failed with status MAX_RETRY" in result.stderr


def test_enqueue_for_stream_non_streaming_runner(cli: Cli, tmp_path: Path) -> None:
    definition = tmp_path / "tools.toml"
    definition.write_text(stdio_definition())
    runner_id = cli.json(
        "runner", "create", "-n", "tools", "-r", "MCP_SERVER", "--definition", f"@{definition}"
    )["runner_id"]
    cli("worker", "create", "-n", "tools-worker", "-r", runner_id, "-s", "")

    message = cli.error(
        "job", "enqueue-for-stream", "-w", "tools-worker", "-a", '{"tool_name": "pid"}', expect=1
    )

    assert "INVALID_ARGUMENT" in message
    assert "does not stream" in message


def test_listen_stream_after_finish_prints_result(cli: Cli) -> None:
    cli.create_worker(
        "Broadcast", "--response-type", "NO_RESULT", "--broadcast-results", "--store-success"
    )
    job_id = cli.json("job", "enqueue", "-w", "Broadcast", "-a", ECHO_ARGS)["job_id"]
    cli.json("job-result", "listen", "-j", job_id, "-w", "Broadcast")

    result = cli("job-result", "listen-stream", "-j", job_id, "-w", "Broadcast", "--json")

    records = json_lines(result.stdout)
    assert len(records) == 1
    assert records[0]["result"]["output"]["stdout"] == "Hello World"  # type: ignore[index]


def test_listen_stream_needs_broadcast(cli: Cli) -> None:
    cli.create_worker("Quiet")

    message = cli.error("job-result", "listen-stream", "-j", "1", "-w", "Quiet", expect=1)

    assert "does not broadcast its results" in message


# Real processes: output appears as the job produces it


def test_stream_commands_print_as_lines_arrive(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, {"SQLITE_URL": f"sqlite://{tmp_path / 'jwp.sqlite3'}"})
    server.start()
    try:
        _follow_lines(server.address, tmp_path)
    finally:
        server.stop()


def _follow_lines(address: str, tmp_path: Path) -> None:
    """Run enqueue-for-stream and listen-stream on one job and check each line as it comes."""
    subprocess.run(
        [JWP, "--address", address, "worker", "create", "--name", "Lines", "--runner-id", "1",
         "--response-type", "NO_RESULT", "--broadcast-results"],
        check=True, capture_output=True, env=_client_env(), timeout=60,
    )  # fmt: skip
    args = command_args_json(sys.executable, "-c", HANDSHAKE_SCRIPT, str(tmp_path))
    with subprocess.Popen(
        [JWP, "--address", address, "job", "enqueue-for-stream", "-w", "Lines", "-a", args,
         "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=_client_env(),
    ) as enqueuer:  # fmt: skip
        stdout = LineReader(enqueuer.stdout)  # type: ignore[arg-type]
        assert json.loads(stdout.next_line()) == {"chunk": {"stdout": "line 1"}}
        job_id = _running_job_id(address)

        with subprocess.Popen(
            [JWP, "--address", address, "job-result", "listen-stream", "-j", job_id,
             "-w", "Lines", "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_client_env(),
        ) as listener:  # fmt: skip
            listened = LineReader(listener.stdout)  # type: ignore[arg-type]
            LineReader(listener.stderr).wait_for("listening to job")  # type: ignore[arg-type]

            for number in (1, 2):
                # The script prints the next line only after this file exists.
                (tmp_path / f"ack-{number}").touch()
                expected = {"chunk": {"stdout": f"line {number + 1}"}}
                assert json.loads(stdout.next_line()) == expected
                assert json.loads(listened.next_line()) == expected
            (tmp_path / "ack-3").touch()

            assert enqueuer.wait(timeout=30) == 0
            assert listener.wait(timeout=30) == 0
            stdout.join()
            listened.join()

    rest = [json.loads(line) for line in _drain(stdout)]
    assert rest[-1]["result"]["job_id"] == job_id
    assert rest[-1]["result"]["status"] == "SUCCESS"
    listened_rest = [json.loads(line) for line in _drain(listened)]
    assert listened_rest[-1]["result"]["id"] == rest[-1]["result"]["id"]


def test_enqueue_for_stream_job_id_before_output(
    cli: Cli, thread_server: ThreadedServer, tmp_path: Path
) -> None:
    cli.create_worker("Waits", "--response-type", "NO_RESULT")
    args = command_args_json(sys.executable, "-c", WAIT_FOR_FILE_SCRIPT, str(tmp_path / "go"))

    with subprocess.Popen(
        [JWP, "--address", thread_server.address, "job", "enqueue-for-stream", "-w", "Waits",
         "-a", args, "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_client_env(),
    ) as enqueuer:  # fmt: skip
        try:
            stdout = LineReader(enqueuer.stdout)  # type: ignore[arg-type]
            stderr = LineReader(enqueuer.stderr)  # type: ignore[arg-type]
            announced = stderr.next_line()
            output_before_cancel = _drain(stdout)
            job_id = announced.removeprefix("job id: ").split(" ")[0]
            deleted = cli.json("job", "delete", "--id", job_id)
            exit_code = enqueuer.wait(timeout=30)
        finally:
            if enqueuer.poll() is None:
                enqueuer.kill()
                enqueuer.wait()
        stdout.join()
        stderr.join()

    assert announced == f"job id: {job_id} (cancel it with `jwp job delete --id {job_id}`)\n"
    assert output_before_cancel == []
    assert deleted["deleted"] is True
    assert exit_code == 1
    records = [json.loads(line) for line in _drain(stdout)]
    assert records[-1]["result"]["job_id"] == job_id
    assert records[-1]["result"]["status"] == "CANCELLED"
    assert not (tmp_path / "go").exists()


def _running_job_id(address: str) -> str:
    statuses = subprocess.run(
        [JWP, "--address", address, "job", "status-all", "--json"],
        check=True, capture_output=True, text=True, env=_client_env(), timeout=60,
    )  # fmt: skip
    running = [item for item in json.loads(statuses.stdout) if item["status"] == "RUNNING"]
    assert len(running) == 1, statuses.stdout
    return str(running[0]["job_id"])


def _drain(reader: LineReader) -> list[str]:
    lines = []
    while not reader.lines.empty():
        lines.append(reader.lines.get())
    return lines
