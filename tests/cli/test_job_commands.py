"""`jwp job` commands against a real server."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from jwp.cli.main import app
from jwp.proto.jobworkerp.data import common_pb2, job_pb2, job_result_pb2, worker_pb2
from tests.cli.conftest import ECHO_ARGS, Cli
from tests.support.servers import ThreadedServer
from tests.support.waiting import eventually_sync

# A channel that no dispatcher of the test server serves, so its jobs stay queued.
IDLE_CHANNEL = "nobody-serves-this"
INT64_MAX = 2**63 - 1


def test_job_enqueue_direct_echo(cli: Cli) -> None:
    cli(
        "worker", "create", "--name", "Echo", "--runner-id", "1", "--settings", "",
        "--response-type", "DIRECT", "--store-success", "--store-failure",
    )  # fmt: skip

    result = cli("job", "enqueue", "--worker", "Echo", "--args", ECHO_ARGS)

    assert "SUCCESS" in result.stdout
    assert "Hello World" in result.stdout
    assert "exit_code" in result.stdout
    assert "stderr" in result.stdout


def test_job_enqueue_args_from_file(cli: Cli, tmp_path: Path) -> None:
    cli.create_worker("Echo")
    path = tmp_path / "args.json"
    path.write_text(ECHO_ARGS + "\n", encoding="utf-8")

    result = cli.json("job", "enqueue", "-w", "Echo", "--args", f"@{path}")

    assert result["output"]["stdout"] == "Hello World"


def test_job_enqueue_args_from_stdin(cli: Cli) -> None:
    cli.create_worker("Echo")

    result = cli("job", "enqueue", "-w", "Echo", "-a", "@-", "--json", stdin=ECHO_ARGS)

    assert json.loads(result.stdout)["output"]["stdout"] == "Hello World"


def test_job_enqueue_args_file_missing(cli: Cli, tmp_path: Path) -> None:
    cli.create_worker("Echo")
    path = tmp_path / "missing.json"

    message = cli.error("job", "enqueue", "-w", "Echo", "-a", f"@{path}", expect=2)

    assert message == (f"error: cannot read --args file {str(path)!r}: No such file or directory")
    assert cli.json("job", "count")["total"] == 0


def test_job_enqueue_args_file_not_utf8(cli: Cli, tmp_path: Path) -> None:
    cli.create_worker("Echo")
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"command": "echo", "args": ["caf\xe9"]}')

    message = cli.error("job", "enqueue", "-w", "Echo", "-a", f"@{path}", expect=2)

    assert message == (
        f"error: --args file {str(path)!r} is not UTF-8 text: invalid byte at offset 33"
    )


def test_job_enqueue_args_at_without_file(cli: Cli) -> None:
    cli.create_worker("Echo")

    message = cli.error("job", "enqueue", "-w", "Echo", "-a", "@", expect=2)

    assert message == "error: --args @ names no file; give @FILE, or @- to read stdin"


def test_job_enqueue_by_worker_id(cli: Cli) -> None:
    worker_id = cli.create_worker("Echo")

    result = cli("job", "enqueue", "-w", worker_id, "-a", ECHO_ARGS)

    assert "Hello World" in result.stdout


def test_job_enqueue_direct_json(cli: Cli) -> None:
    cli.create_worker("Echo", "--store-success")

    result = cli.json("job", "enqueue", "--worker", "Echo", "--args", ECHO_ARGS)

    assert result["status"] == "SUCCESS"
    assert result["worker_name"] == "Echo"
    assert result["output"]["stdout"] == "Hello World"
    assert result["output"]["exit_code"] == 0
    assert result["args"] == {"command": "echo", "args": ["Hello", "World"]}
    assert isinstance(result["job_id"], str)
    assert isinstance(result["id"], str)
    assert result["end_time"] >= result["start_time"] > 0
    assert result["response_type"] == "DIRECT"


def test_job_enqueue_no_result_prints_job_id(cli: Cli) -> None:
    cli.create_worker("Async", "--response-type", "NO_RESULT")

    result = cli("job", "enqueue", "--worker", "Async", "--args", ECHO_ARGS)

    assert result.stdout.startswith("job id: ")
    assert result.stdout.split(": ")[1].strip().isdigit()
    assert set(cli.json("job", "enqueue", "-w", "Async", "-a", ECHO_ARGS)) == {"job_id"}


def test_job_enqueue_failed_job_exits_1(cli: Cli) -> None:
    cli.create_worker("Echo")

    result = cli("job", "enqueue", "-w", "Echo", "-a", '{"command":"/no/such/program"}', expect=1)

    assert "MAX_RETRY" in result.stdout
    assert "/no/such/program" in result.stdout
    assert result.stderr.startswith("error: job ")
    assert "failed with status MAX_RETRY" in result.stderr


def test_job_enqueue_unknown_field_stores_nothing(cli: Cli) -> None:
    cli.create_worker("Echo", "--store-success", "--store-failure", "--broadcast-results")

    message = cli.error("job", "enqueue", "-w", "Echo", "--args", '{"comand":"echo"}', expect=2)

    assert "comand" in message
    assert "command, args" in message
    assert cli.json("job", "count") == {"total": 0}
    assert cli.json("job-result", "count") == {"total": 0}
    assert cli.json("job", "status-all") == []


def test_job_enqueue_invalid_json_says_where(cli: Cli) -> None:
    cli.create_worker("Echo", "--store-failure")

    message = cli.error("job", "enqueue", "-w", "Echo", "-a", '{"command": "echo",}', expect=2)

    assert "line 1 column 20" in message
    assert cli.json("job-result", "count") == {"total": 0}


def test_job_enqueue_wrong_value_type(cli: Cli) -> None:
    cli.create_worker("Echo")

    message = cli.error("job", "enqueue", "-w", "Echo", "-a", '{"args": "not a list"}', expect=2)

    assert "invalid --args" in message
    assert "args" in message


def test_job_enqueue_unknown_worker(cli: Cli) -> None:
    message = cli.error("job", "enqueue", "--worker", "Ghost", "--args", "{}", expect=1)

    assert "'Ghost' not found" in message
    assert "jwp worker list" in message
    assert "worker 404 not found" in cli.error("job", "enqueue", "-w", "404", expect=1)


def test_job_enqueue_run_after_direct_rejected(cli: Cli) -> None:
    cli.create_worker("Echo")

    message = cli.error(
        "job", "enqueue", "-w", "Echo", "-a", ECHO_ARGS, "--run-after-time", "+1h", expect=1
    )

    assert "INVALID_ARGUMENT" in message
    assert "run_after_time" in message


def test_job_enqueue_run_after_offset_is_stored(cli: Cli) -> None:
    cli.create_worker("Later", "--response-type", "NO_RESULT")
    before_ms = int(datetime.now(UTC).timestamp() * 1000)

    job_id = cli.json("job", "enqueue", "-w", "Later", "-a", ECHO_ARGS, "-r", "+2h")["job_id"]

    job = cli.json("job", "find", "--id", job_id)
    assert job["id"] == job_id
    assert job["worker_name"] == "Later"
    assert job["args"] == {"command": "echo", "args": ["Hello", "World"]}
    assert before_ms + 7_200_000 <= job["run_after_time"] <= before_ms + 7_300_000
    assert job["status"] == "PENDING"
    assert [listed["id"] for listed in cli.json("job", "list")] == [job_id]
    assert cli.json("job", "count") == {"total": 1}


def test_job_enqueue_run_after_iso_and_epoch(cli: Cli) -> None:
    cli.create_worker("Later", "--response-type", "NO_RESULT")
    moment_ms = int(datetime(2999, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp() * 1000)

    iso_job = cli.json("job", "enqueue", "-w", "Later", "-r", "2999-01-02T03:04:05Z")["job_id"]
    epoch_job = cli.json("job", "enqueue", "-w", "Later", "-r", str(moment_ms + 1))["job_id"]

    assert cli.json("job", "find", "-i", iso_job)["run_after_time"] == moment_ms
    assert cli.json("job", "find", "-i", epoch_job)["run_after_time"] == moment_ms + 1


def test_job_enqueue_invalid_run_after_time(cli: Cli) -> None:
    cli.create_worker("Later", "--response-type", "NO_RESULT")

    message = cli.error("job", "enqueue", "-w", "Later", "-r", "soon", expect=2)

    assert "--run-after-time 'soon'" in message
    assert "+30s" in message


def test_job_enqueue_priority_timeout_unique_key(cli: Cli) -> None:
    cli.create_worker("Later", "--response-type", "NO_RESULT")

    high = cli.json(
        "job", "enqueue", "-w", "Later", "-r", "+1h", "-p", "high", "-t", "0", "-u", "key-1"
    )["job_id"]
    middle = cli.json("job", "enqueue", "-w", "Later", "-r", "+1h", "-p", "middle", "-t", "1500")[
        "job_id"
    ]
    low = cli.json("job", "enqueue", "-w", "Later", "-r", "+1h", "--priority", "LOW")["job_id"]

    high_job = cli.json("job", "find", "-i", high)
    assert high_job["priority"] == "PRIORITY_HIGH"
    assert high_job["timeout"] == 0
    assert high_job["uniq_key"] == "key-1"
    middle_job = cli.json("job", "find", "-i", middle)
    assert middle_job["priority"] == "PRIORITY_MEDIUM"
    assert middle_job["timeout"] == 1500
    assert middle_job["uniq_key"] is None
    assert cli.json("job", "find", "-i", low)["priority"] == "PRIORITY_LOW"


def test_job_enqueue_empty_unique_key(cli: Cli) -> None:
    cli.create_worker("Echo")

    message = cli.error("job", "enqueue", "-w", "Echo", "-a", ECHO_ARGS, "-u", "", expect=2)

    assert "--unique-key" in message


def test_job_enqueue_duplicate_unique_key(cli: Cli) -> None:
    cli.create_worker("Later", "--response-type", "NO_RESULT")
    cli("job", "enqueue", "-w", "Later", "-r", "+1h", "-u", "nightly")

    message = cli.error("job", "enqueue", "-w", "Later", "-r", "+1h", "-u", "nightly", expect=1)

    assert "ALREADY_EXISTS" in message
    assert "nightly" in message


def test_job_enqueue_invalid_priority(cli: Cli) -> None:
    cli.create_worker("Echo")

    message = cli.error("job", "enqueue", "-w", "Echo", "-p", "urgent", expect=2)

    assert "--priority" in message


def test_job_find_card_and_unknown(cli: Cli) -> None:
    cli.create_worker("Later", "--response-type", "NO_RESULT")
    job_id = cli.json("job", "enqueue", "-w", "Later", "-a", ECHO_ARGS, "-r", "+1h")["job_id"]

    card = cli("job", "find", "--id", job_id).stdout

    assert job_id in card
    assert "Later" in card
    assert "PENDING" in card
    assert '"echo"' in card
    message = cli.error("job", "find", "--id", "12345", expect=1)
    assert "job 12345 not found" in message


def test_job_queue_list_status_and_delete(cli: Cli) -> None:
    cli.create_worker(
        "Idle", "--response-type", "NO_RESULT", "--channel", IDLE_CHANNEL, "--store-failure"
    )
    job_id = cli.json("job", "enqueue", "-w", "Idle", "-a", ECHO_ARGS)["job_id"]

    queued = cli.json("job", "find-queue-list", "--channel", IDLE_CHANNEL)
    assert [job["id"] for job in queued] == [job_id]
    assert queued[0]["status"] == "PENDING"
    assert cli.json("job", "find-queue-list") == []
    assert job_id in cli("job", "find-queue-list", "-c", IDLE_CHANNEL, "-l", "5").stdout
    assert cli.json("job", "status", "--id", job_id) == {"job_id": job_id, "status": "PENDING"}
    assert cli("job", "status", "--id", job_id).stdout.strip() == f"job {job_id}: PENDING"
    assert cli.json("job", "status-all") == [{"job_id": job_id, "status": "PENDING"}]
    assert "PENDING" in cli("job", "status-all").stdout

    assert cli.json("job", "delete", "--id", job_id) == {"job_id": job_id, "deleted": True}

    assert cli.json("job", "find-queue-list", "--channel", IDLE_CHANNEL) == []
    assert cli.json("job", "status", "--id", job_id)["status"] is None
    assert "no status" in cli("job", "status", "--id", job_id).stdout
    results = cli.json("job-result", "list-by-job-id", "--job-id", job_id)
    assert [result["status"] for result in results] == ["CANCELLED"]


def test_job_delete_stops_stored_job(cli: Cli) -> None:
    cli.create_worker("Later", "--response-type", "NO_RESULT")
    job_id = cli.json("job", "enqueue", "-w", "Later", "-r", "+1h")["job_id"]

    assert cli("job", "delete", "-i", job_id).stdout.strip() == f"job {job_id} deleted"

    assert cli.json("job", "count") == {"total": 0}
    assert f"job {job_id} not found" in cli.error("job", "delete", "-i", job_id, expect=1)


def test_job_list_table_and_empty(cli: Cli) -> None:
    assert cli("job", "list").stdout.strip() == "no jobs found"
    cli.create_worker("Later", "--response-type", "NO_RESULT")
    job_id = cli.json("job", "enqueue", "-w", "Later", "-r", "+1h", "-a", ECHO_ARGS)["job_id"]

    table = cli("job", "list", "--limit", "10", "--offset", "0").stdout

    assert job_id in table
    assert "MEDIUM" in table
    assert cli("job", "count").stdout.strip() == "1"


def test_job_result_of_no_result_job_arrives(cli: Cli) -> None:
    cli.create_worker("Async", "--response-type", "NO_RESULT", "--store-success")
    job_id = cli.json("job", "enqueue", "-w", "Async", "-a", ECHO_ARGS)["job_id"]

    results = eventually_sync(
        lambda: cli.json("job-result", "list-by-job-id", "--job-id", job_id),
        message=f"a stored result of job {job_id}",
    )

    assert results[0]["output"]["stdout"] == "Hello World"


def test_job_result_extreme_times_print_as_numbers(cli: Cli, thread_server: ThreadedServer) -> None:
    # The server rejects such times from clients, so the result goes straight
    # into storage, as a corrupt row or another server's data would.
    worker_id = int(cli.create_worker("Odd"))
    result = job_result_pb2.JobResult(
        id=job_result_pb2.JobResultId(value=77),
        data=job_result_pb2.JobResultData(
            job_id=job_pb2.JobId(value=78),
            worker_id=worker_pb2.WorkerId(value=worker_id),
            status=common_pb2.SUCCESS,
            start_time=-5,
            end_time=INT64_MAX,
        ),
    )
    assert thread_server.server.components is not None
    thread_server.call(thread_server.server.components.storage.job_results.insert(result))

    table = cli("job-result", "list").stdout
    card = cli("job-result", "find", "--id", "77").stdout

    assert "-5" in table
    assert str(INT64_MAX) in card
    assert "-5" in card
    assert cli.json("job-result", "find", "--id", "77")["end_time"] == INT64_MAX


def test_job_result_card_caps_huge_output(cli: Cli) -> None:
    cli.create_worker("Seq", "--store-success")
    args = '{"command":"seq","args":["1","300000"]}'

    card = cli("job", "enqueue", "-w", "Seq", "-a", args).stdout
    whole = cli.json("job", "enqueue", "-w", "Seq", "-a", args)

    assert len(card) < 50_000
    assert "more characters" in card
    assert "add --json to print the whole value" in card
    assert whole["output"]["stdout"].splitlines()[-1] == "300000"


def test_job_restore_queues_lost_backup_job(cli: Cli, thread_server: ThreadedServer) -> None:
    options = ["--queue-type", "WITH_BACKUP", "--response-type", "NO_RESULT"]
    worker_id = int(cli.create_worker("Backup", *options, "--channel", IDLE_CHANNEL))
    # The database copy of a WITH_BACKUP job whose queue entry was lost, as
    # after a Redis restart without persistence.
    lost = job_pb2.Job(
        id=job_pb2.JobId(value=4242),
        data=job_pb2.JobData(
            worker_id=worker_pb2.WorkerId(value=worker_id),
            args=b"",
            enqueue_time=1_750_000_000_000,
            run_after_time=0,
            priority=common_pb2.PRIORITY_MEDIUM,
        ),
    )
    assert thread_server.server.components is not None
    thread_server.call(thread_server.server.components.storage.jobs.insert(lost))

    listed = cli.json("job", "list-restorable")
    table = cli("job", "list-restorable").stdout
    restored = cli.json("job", "restore")
    queued = cli.json("job", "find-queue-list", "--channel", IDLE_CHANNEL)

    assert [job["id"] for job in listed] == ["4242"]
    assert "4242" in table
    assert restored == {"restored": True}
    assert [job["id"] for job in queued] == ["4242"]
    assert queued[0]["status"] == "PENDING"
    assert cli.json("job", "list-restorable") == []
    assert "no restorable jobs found" in cli("job", "list-restorable").stdout


def test_job_list_keeps_ids_whole_when_narrow(cli: Cli) -> None:
    cli.create_worker("Later", "--response-type", "NO_RESULT")
    job_id = cli.json("job", "enqueue", "-w", "Later", "-a", ECHO_ARGS, "-r", "+1h")["job_id"]

    result = CliRunner().invoke(
        app, ["--address", cli.address, "job", "list"], env={"COLUMNS": "80"}
    )

    assert result.exit_code == 0, result.output
    assert job_id in result.stdout
    assert "MEDIUM" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80


def test_too_narrow_table_folds_ids(cli: Cli) -> None:
    cli.create_worker("Echo", "--store-success")
    job_id = cli.json("job", "enqueue", "-w", "Echo", "-a", ECHO_ARGS)["job_id"]

    result = CliRunner().invoke(
        app, ["--address", cli.address, "job-result", "list"], env={"COLUMNS": "60"}
    )

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 60
    assert job_id not in result.stdout
    assert job_id[:4] in result.stdout
    assert "SUCCESS" in result.stdout
