"""`jwp job-result` commands against a real server."""

from __future__ import annotations

from tests.cli.conftest import ECHO_ARGS, Cli


def _sleep_worker(cli: Cli, name: str = "SleepWorker") -> str:
    """Create a NO_RESULT worker that stores and broadcasts its results, and return its id."""
    return cli.create_worker(
        name, "--description", "", "--settings", "", "--response-type", "NO_RESULT",
        "--broadcast-results", "--store-success", "--store-failure",
    )  # fmt: skip


def test_listen_before_and_after_finish(cli: Cli) -> None:
    _sleep_worker(cli)
    enqueued = cli("job", "enqueue", "--worker", "SleepWorker", "--args", ECHO_ARGS)
    job_id = enqueued.stdout.removeprefix("job id: ").strip()

    first = cli("job-result", "listen", "--job-id", job_id, "--worker", "SleepWorker")
    again = cli.json(
        "job-result", "listen", "--job-id", job_id, "--timeout", "70000", "--worker", "SleepWorker"
    )

    assert "SUCCESS" in first.stdout
    assert "Hello World" in first.stdout
    assert job_id in first.stdout
    assert again["job_id"] == job_id
    assert again["status"] == "SUCCESS"
    assert again["output"]["stdout"] == "Hello World"
    listed = cli.json("job-result", "list-by-job-id", "--job-id", job_id)
    assert [result["id"] for result in listed] == [again["id"]]
    assert again["id"] in cli("job-result", "list-by-job-id", "-j", job_id).stdout


def test_listen_waits_for_running_job(cli: Cli) -> None:
    worker_id = _sleep_worker(cli)
    job_id = cli.json(
        "job", "enqueue", "-w", "SleepWorker", "-a", '{"command":"sleep","args":["0.3"]}'
    )["job_id"]

    result = cli.json("job-result", "listen", "-j", job_id, "-w", worker_id)

    assert result["status"] == "SUCCESS"
    assert result["end_time"] - result["start_time"] >= 250


def test_listen_timeout(cli: Cli) -> None:
    _sleep_worker(cli)
    job_id = cli.json(
        "job", "enqueue", "-w", "SleepWorker", "-a", '{"command":"sleep","args":["30"]}'
    )["job_id"]

    message = cli.error(
        "job-result", "listen", "-j", job_id, "-w", "SleepWorker", "-t", "200", expect=1
    )

    assert "DEADLINE_EXCEEDED" in message
    assert f"job {job_id}" in message
    cli("job", "delete", "--id", job_id)


def test_listen_global_timeout(cli: Cli) -> None:
    _sleep_worker(cli)
    job_id = cli.json(
        "job", "enqueue", "-w", "SleepWorker", "-a", '{"command":"sleep","args":["30"]}'
    )["job_id"]

    message = cli.error(
        "--timeout", "200", "job-result", "listen", "-j", job_id, "-w", "SleepWorker", expect=1
    )

    assert "timed out after --timeout 200 ms" in message
    cli("job", "delete", "--id", job_id)


def test_listen_failed_job_exits_1(cli: Cli) -> None:
    _sleep_worker(cli)
    job_id = cli.json("job", "enqueue", "-w", "SleepWorker", "-a", '{"command":"/no/such"}')[
        "job_id"
    ]

    result = cli("job-result", "listen", "-j", job_id, "-w", "SleepWorker", expect=1)

    assert "MAX_RETRY" in result.stdout
    assert "failed with status MAX_RETRY" in result.stderr


def test_listen_worker_without_broadcast(cli: Cli) -> None:
    worker_id = cli.create_worker("Quiet", "--response-type", "NO_RESULT")

    message = cli.error("job-result", "listen", "-j", "1", "-w", "Quiet", expect=1)

    assert "does not broadcast" in message
    assert f"jwp worker update --id {worker_id} --broadcast-results" in message


def test_listen_unknown_worker(cli: Cli) -> None:
    message = cli.error("job-result", "listen", "-j", "1", "-w", "Ghost", expect=1)

    assert "'Ghost' not found" in message


def test_listen_by_worker_unknown_worker(cli: Cli) -> None:
    message = cli.error("job-result", "listen-by-worker", "--worker", "Ghost", expect=1)

    assert "'Ghost' not found" in message


def test_result_find_list_delete_count(cli: Cli) -> None:
    cli.create_worker("Echo", "--store-success")
    direct = cli.json("job", "enqueue", "-w", "Echo", "-a", ECHO_ARGS)
    result_id = direct["id"]

    found = cli.json("job-result", "find", "--id", result_id)
    assert found["job_id"] == direct["job_id"]
    assert found["output"]["stdout"] == "Hello World"
    card = cli("job-result", "find", "-i", result_id).stdout
    assert "SUCCESS" in card
    assert "Hello World" in card
    assert "Echo" in card
    listed = cli.json("job-result", "list", "--limit", "10")
    assert [result["id"] for result in listed] == [result_id]
    assert result_id in cli("job-result", "list").stdout
    assert cli("job-result", "count").stdout.strip() == "1"

    assert cli.json("job-result", "delete", "--id", result_id) == {
        "job_result_id": result_id,
        "deleted": True,
    }

    assert cli.json("job-result", "count") == {"total": 0}
    assert cli("job-result", "list").stdout.strip() == "no job results found"
    assert f"job result {result_id} not found" in cli.error(
        "job-result", "find", "--id", result_id, expect=1
    )
    assert f"job result {result_id} not found" in cli.error(
        "job-result", "delete", "--id", result_id, expect=1
    )


def test_result_of_failed_job_shows_error_text(cli: Cli) -> None:
    cli.create_worker("Echo", "--store-failure")
    cli("job", "enqueue", "-w", "Echo", "-a", '{"command":"/no/such"}', expect=1)

    [result] = cli.json("job-result", "list")

    assert result["status"] == "MAX_RETRY"
    assert isinstance(result["output"], str)
    assert "/no/such" in result["output"]
