"""`jwp worker` commands against a real server."""

from __future__ import annotations

from pathlib import Path

import pytest

from jwp.proto.jobworkerp.data import common_pb2
from jwp.proto.jobworkerp.service import worker_pb2_grpc
from tests.cli.conftest import Cli, stored_worker


def test_worker_create_echo_example(cli: Cli) -> None:
    result = cli(
        "worker", "create", "--name", "Echo", "--runner-id", "1", "--settings", "",
        "--response-type", "DIRECT", "--store-success", "--store-failure",
    )  # fmt: skip

    assert result.stdout.startswith("worker id: ")
    worker = cli.json("worker", "find-by-name", "--name", "Echo")
    assert worker["response_type"] == "DIRECT"
    assert worker["store_success"] is True
    assert worker["store_failure"] is True
    assert worker["broadcast_results"] is False
    assert worker["runner_name"] == "COMMAND"


def test_worker_create_defaults(cli: Cli, raw_workers: worker_pb2_grpc.WorkerServiceStub) -> None:
    worker_id = cli.create_worker("Plain")

    stored = stored_worker(raw_workers, worker_id).data
    assert stored.response_type == common_pb2.DIRECT
    assert stored.queue_type == common_pb2.NORMAL
    assert stored.description == ""
    assert stored.runner_settings == b""
    assert not stored.HasField("channel")
    assert stored.retry_policy.type == common_pb2.NONE
    assert stored.retry_policy.max_retry == 0


def test_worker_create_all_options(
    cli: Cli, raw_workers: worker_pb2_grpc.WorkerServiceStub
) -> None:
    echo_id = cli.create_worker("Echo")
    worker_id = cli.create_worker(
        "Full", "-d", "all options", "-s", "raw settings", "--response-type", "no_result",
        "--store-success", "--store-failure", "--broadcast-results", "--use-static",
        "-c", "batch", "-q", "WITH_BACKUP", "--retry-type", "EXPONENTIAL",
        "--retry-interval", "200", "--retry-max-interval", "5000", "--retry-max", "4",
        "--retry-basis", "3", "--next-workers", f"Echo,{echo_id}",
    )  # fmt: skip

    stored = stored_worker(raw_workers, worker_id).data
    assert stored.description == "all options"
    assert stored.runner_settings == b"raw settings"
    assert stored.response_type == common_pb2.NO_RESULT
    # WITH_BACKUP is 1 in the proto, where jobworkerp-client's update sent 2.
    assert stored.queue_type == 1
    assert stored.channel == "batch"
    assert stored.store_success
    assert stored.store_failure
    assert stored.broadcast_results
    assert stored.use_static
    assert stored.retry_policy.type == common_pb2.EXPONENTIAL
    assert stored.retry_policy.interval == 200
    assert stored.retry_policy.max_interval == 5000
    assert stored.retry_policy.max_retry == 4
    assert stored.retry_policy.basis == 3.0
    assert [worker.value for worker in stored.next_workers] == [int(echo_id), int(echo_id)]


def test_worker_create_forced_rdb_is_proto_value_2(
    cli: Cli, raw_workers: worker_pb2_grpc.WorkerServiceStub
) -> None:
    worker_id = cli.create_worker("Rdb", "--response-type", "NO_RESULT", "-q", "FORCED_RDB")

    assert stored_worker(raw_workers, worker_id).data.queue_type == 2


def test_worker_create_retry_defaults(cli: Cli) -> None:
    cli.create_worker("Retrying", "--retry-type", "CONSTANT")

    policy = cli.json("worker", "find-by-name", "-n", "Retrying")["retry_policy"]
    assert policy == {
        "type": "CONSTANT",
        "interval": 1000,
        "max_interval": 0,
        "max_retry": 3,
        "basis": 2.0,
    }


def test_worker_create_retry_without_type(cli: Cli) -> None:
    message = cli.error("worker", "create", "-n", "X", "-r", "1", "--retry-max", "2", expect=2)

    assert "--retry-type" in message
    assert cli.json("worker", "count")["total"] == 0


def test_worker_create_unknown_runner(cli: Cli) -> None:
    message = cli.error("worker", "create", "--name", "X", "--runner-id", "99", expect=1)

    assert "runner 99 not found" in message
    assert cli.json("worker", "count")["total"] == 0


def test_worker_create_duplicate_name(cli: Cli) -> None:
    worker_id = cli.create_worker("Echo")

    message = cli.error("worker", "create", "--name", "Echo", "--runner-id", "1", expect=1)

    assert "'Echo' already exists" in message
    assert f"jwp worker update --id {worker_id}" in message


def test_worker_create_next_worker_id_beyond_int64(cli: Cli) -> None:
    message = cli.error(
        "worker", "create", "-n", "Chain", "-r", "1", "--next-workers", "99999999999999999999",
        expect=2,
    )  # fmt: skip

    assert "invalid --next-workers 99999999999999999999" in message
    assert "at most 9223372036854775807" in message


def test_worker_create_unknown_next_worker(cli: Cli) -> None:
    message = cli.error(
        "worker", "create", "-n", "Chain", "-r", "1", "--next-workers", "Missing", expect=1
    )

    assert "'Missing' not found" in message


def test_worker_create_rejected_by_server(cli: Cli) -> None:
    message = cli.error("worker", "create", "-n", "P", "-r", "1", "--periodic", "3000", expect=1)

    assert "INVALID_ARGUMENT" in message
    assert "periodic_interval" in message


def test_worker_create_settings_from_file(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"base_url": "http://127.0.0.1:9/api/"}', encoding="utf-8")

    cli("worker", "create", "--name", "H", "--runner-id", "2", "--settings", f"@{path}")

    worker = cli.json("worker", "find-by-name", "--name", "H")
    assert worker["runner_settings"] == {"base_url": "http://127.0.0.1:9/api/"}


def test_worker_update_settings_from_stdin(cli: Cli) -> None:
    cli("worker", "create", "--name", "H", "--runner-id", "2")
    worker_id = cli.json("worker", "find-by-name", "--name", "H")["id"]

    cli(
        "worker", "update", "--id", worker_id, "--settings", "@-",
        stdin='{"base_url": "https://example.com/"}',
    )  # fmt: skip

    worker = cli.json("worker", "find", "--id", worker_id)
    assert worker["runner_settings"] == {"base_url": "https://example.com/"}


def test_worker_create_rejects_bad_http_base_url(cli: Cli) -> None:
    message = cli.error(
        "worker", "create", "--name", "H", "--runner-id", "2",
        "--settings", '{"base_url":"not a url"}', expect=1,
    )  # fmt: skip

    assert "INVALID_ARGUMENT" in message
    assert "runner_settings.base_url 'not a url' is not an absolute http or https URL" in message
    assert cli.json("worker", "count")["total"] == 0


def test_worker_create_missing_name(cli: Cli) -> None:
    message = cli.error("worker", "create", "--runner-id", "1", expect=2)

    assert "--name" in message
    assert "jwp worker create --help" in message


def test_worker_create_invalid_queue_type(cli: Cli) -> None:
    message = cli.error("worker", "create", "-n", "X", "-r", "1", "--queue-type", "BOGUS", expect=2)

    assert "--queue-type" in message


def test_worker_create_json(cli: Cli) -> None:
    created = cli.json("worker", "create", "--name", "Echo", "--runner-id", "1")

    assert isinstance(created["worker_id"], str)
    assert cli.json("worker", "find", "--id", created["worker_id"])["name"] == "Echo"


def test_worker_find_card(cli: Cli) -> None:
    worker_id = cli.create_worker("Echo", "-d", "says hello")

    result = cli("worker", "find", "--id", worker_id)

    assert "Echo" in result.stdout
    assert "says hello" in result.stdout
    assert "COMMAND (id 1)" in result.stdout


def test_worker_find_unknown(cli: Cli) -> None:
    assert "worker 42 not found" in cli.error("worker", "find", "--id", "42", expect=1)
    assert "'Nobody' not found" in cli.error("worker", "find-by-name", "--name", "Nobody", expect=1)


def test_worker_update_changes_only_given_options(
    cli: Cli, raw_workers: worker_pb2_grpc.WorkerServiceStub
) -> None:
    worker_id = cli.create_worker(
        "Echo", "-d", "first", "--response-type", "NO_RESULT", "--store-failure",
        "--broadcast-results", "-s", "keep me",
    )  # fmt: skip

    updated = cli.json(
        "worker", "update", "--id", worker_id, "--store-success", "--no-store-failure",
        "--channel", "c1", "--queue-type", "WITH_BACKUP",
    )  # fmt: skip

    assert updated["store_success"] is True
    assert updated["store_failure"] is False
    assert updated["channel"] == "c1"
    stored = stored_worker(raw_workers, worker_id).data
    assert stored.queue_type == common_pb2.WITH_BACKUP
    assert stored.description == "first"
    assert stored.response_type == common_pb2.NO_RESULT
    assert stored.broadcast_results is True
    assert stored.runner_settings == b"keep me"
    assert stored.name == "Echo"


def test_worker_update_empty_channel_clears_it(
    cli: Cli, raw_workers: worker_pb2_grpc.WorkerServiceStub
) -> None:
    worker_id = cli.create_worker("Echo", "--channel", "c1")

    cli("worker", "update", "--id", worker_id, "--channel", "")

    assert not stored_worker(raw_workers, worker_id).data.HasField("channel")
    assert cli.json("worker", "find", "--id", worker_id)["channel"] is None


def test_worker_update_settings_rename_and_retry(cli: Cli) -> None:
    worker_id = cli.create_worker("Echo", "--retry-type", "LINEAR", "--retry-max", "5")

    updated = cli.json(
        "worker", "update", "-i", worker_id, "-n", "Echo2", "-s", "new settings",
        "--retry-interval", "250", "-d", "second",
    )  # fmt: skip

    assert updated["name"] == "Echo2"
    assert updated["description"] == "second"
    assert updated["runner_settings"] == "new settings"
    assert updated["retry_policy"]["type"] == "LINEAR"
    assert updated["retry_policy"]["max_retry"] == 5
    assert updated["retry_policy"]["interval"] == 250


def test_worker_update_next_workers(cli: Cli) -> None:
    first = cli.create_worker("First")
    second = cli.create_worker("Second")

    assert cli.json("worker", "update", "-i", first, "--next-workers", "Second")[
        "next_workers"
    ] == [second]
    assert cli.json("worker", "update", "-i", first, "--next-workers", "")["next_workers"] == []


def test_worker_update_card(cli: Cli) -> None:
    worker_id = cli.create_worker("Echo")

    result = cli("worker", "update", "--id", worker_id, "--description", "changed")

    assert "changed" in result.stdout


def test_worker_update_rejected_by_server(cli: Cli) -> None:
    worker_id = cli.create_worker("Echo")

    message = cli.error("worker", "update", "--id", worker_id, "--periodic", "5000", expect=1)

    assert "INVALID_ARGUMENT" in message
    assert cli.json("worker", "find", "--id", worker_id)["periodic_interval"] == 0


def test_worker_update_unknown(cli: Cli) -> None:
    message = cli.error("worker", "update", "--id", "77", "-d", "x", expect=1)

    assert "worker 77 not found" in message


def test_worker_list_and_filters(cli: Cli) -> None:
    cli.create_worker("A", "--channel", "c1")
    cli.create_worker("B")

    names = [worker["name"] for worker in cli.json("worker", "list")]
    assert sorted(names) == ["A", "B"]
    assert [worker["name"] for worker in cli.json("worker", "list", "--channel", "c1")] == ["A"]
    assert len(cli.json("worker", "list", "--runner-type", "command")) == 2
    assert cli.json("worker", "list", "--runner-type", "HTTP_REQUEST") == []
    assert len(cli.json("worker", "list", "--limit", "1")) == 1
    table = cli("worker", "list").stdout
    assert "A" in table
    assert "c1" in table


def test_worker_list_unknown_runner_type(cli: Cli) -> None:
    message = cli.error("worker", "list", "--runner-type", "SHELL", expect=2)

    assert "'SHELL'" in message
    assert "COMMAND" in message


def test_worker_delete_and_count(cli: Cli) -> None:
    worker_id = cli.create_worker("Echo")
    assert cli("worker", "count").stdout.strip() == "1"

    assert cli("worker", "delete", "--id", worker_id).stdout.strip() == (
        f"worker {worker_id} deleted"
    )

    assert cli.json("worker", "count") == {"total": 0}
    assert f"worker {worker_id} not found" in cli.error(
        "worker", "delete", "--id", worker_id, expect=1
    )


def test_worker_delete_json(cli: Cli) -> None:
    worker_id = cli.create_worker("Echo")

    assert cli.json("worker", "delete", "-i", worker_id) == {
        "worker_id": worker_id,
        "deleted": True,
    }


def test_worker_create_warns_on_unserved_channel(cli: Cli) -> None:
    result = cli("worker", "create", "--name", "Gpu", "--runner-id", "1", "--channel", "gpu")

    assert "worker id:" in result.stdout
    assert "does not run channel 'gpu'" in result.stderr
    assert "__default_job_channel__" in result.stderr


def test_worker_create_default_channel_has_no_warning(cli: Cli) -> None:
    result = cli("worker", "create", "--name", "Plain", "--runner-id", "1")

    assert "warning" not in result.stderr


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("   ", "name is empty"),
        ("x" * 129, "use at most 128"),
        ("tab\there", "control characters"),
        (" padded", "white space"),
    ],
)
def test_worker_create_rejects_bad_name_locally(cli: Cli, name: str, problem: str) -> None:
    message = cli.error("worker", "create", "--name", name, "--runner-id", "1", expect=2)

    assert message.startswith("error: invalid --name: ")
    assert problem in message
    assert cli.json("worker", "count") == {"total": 0}


def test_runner_create_rejects_bad_name_locally(cli: Cli) -> None:
    message = cli.error(
        "runner", "create", "--name", "bad\nname", "--runner-type", "PLUGIN",
        "--definition", "/nowhere", expect=2,
    )  # fmt: skip

    assert "invalid --name" in message
    assert "control characters" in message
