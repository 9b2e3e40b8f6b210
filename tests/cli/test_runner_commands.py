"""`jwp runner` commands against a real server."""

from __future__ import annotations

from tests.cli.conftest import Cli


def test_runner_list_shows_command(cli: Cli) -> None:
    result = cli("runner", "list")

    assert "COMMAND" in result.stdout
    assert "BOTH" in result.stdout


def test_runner_list_json(cli: Cli) -> None:
    runners = cli.json("runner", "list")

    assert isinstance(runners, list)
    command = next(runner for runner in runners if runner["name"] == "COMMAND")
    assert command["id"] == "1"
    assert command["runner_type"] == "COMMAND"
    assert command["output_type"] == "BOTH"
    assert "message CommandArgs" in command["job_args_proto"]


def test_runner_list_limit_and_offset(cli: Cli) -> None:
    assert len(cli.json("runner", "list", "--limit", "1")) == 1
    assert cli.json("runner", "list", "--offset", "100", "--limit", "5") == []
    assert cli("runner", "list", "--offset", "100", "--limit", "5").stdout.strip() == (
        "no runners found"
    )


def test_runner_find_shows_proto_texts(cli: Cli) -> None:
    result = cli("runner", "find", "--id", "1")

    assert "message CommandArgs" in result.stdout
    assert "message CommandResult" in result.stdout
    assert "runner_settings_proto" in result.stdout


def test_runner_find_json(cli: Cli) -> None:
    runner = cli.json("runner", "find", "-i", "1")

    assert runner["name"] == "COMMAND"
    assert runner["runner_settings_proto"] == ""
    assert "message CommandResult" in runner["result_output_proto"]
    assert runner["definition"] == "builtin1"


def test_runner_find_unknown_id(cli: Cli) -> None:
    message = cli.error("runner", "find", "--id", "999", expect=1)

    assert "runner 999 not found" in message
    assert "jwp runner list" in message


def test_runner_find_name_option(cli: Cli) -> None:
    runner = cli.json("runner", "find", "--name", "HTTP_REQUEST")

    assert runner["id"] == "2"
    assert "message HttpRequestArgs" in runner["job_args_proto"]
    assert "message CommandArgs" in cli("runner", "find", "-n", "COMMAND").stdout


def test_runner_find_unknown_name(cli: Cli) -> None:
    message = cli.error("runner", "find", "--name", "NOPE", expect=1)

    assert message == "error: runner 'NOPE' not found; list runners with `jwp runner list`"


def test_runner_find_id_and_name(cli: Cli) -> None:
    message = cli.error("runner", "find", "--id", "1", "--name", "COMMAND", expect=2)

    assert message == "error: give either --id or --name, not both"


def test_runner_find_without_id_or_name(cli: Cli) -> None:
    message = cli.error("runner", "find", expect=2)

    assert message == (
        "error: give the runner's --id or --name; list runners with `jwp runner list`"
    )


def test_runner_find_by_name(cli: Cli) -> None:
    assert cli.json("runner", "find-by-name", "--name", "COMMAND")["id"] == "1"
    assert "message CommandArgs" in cli("runner", "find-by-name", "-n", "COMMAND").stdout


def test_runner_find_by_unknown_name(cli: Cli) -> None:
    message = cli.error("runner", "find-by-name", "--name", "NOPE", expect=1)

    assert "'NOPE'" in message


def test_runner_count(cli: Cli) -> None:
    total = cli.json("runner", "count")["total"]

    assert total >= 1
    assert cli("runner", "count").stdout.strip() == str(total)


def test_runner_find_negative_id(cli: Cli) -> None:
    found = cli.json("runner", "find", "--id", "-1")

    assert found["name"] == "REUSABLE_WORKFLOW"
