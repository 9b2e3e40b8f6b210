"""The CLI's connection: address parsing, unreachable servers and one-line errors."""

from __future__ import annotations

import pytest

from jwp.cli.client import Target, parse_address
from jwp.cli.errors import InputError
from tests.cli.conftest import Cli


@pytest.mark.parametrize(
    ("address", "target", "tls"),
    [
        ("localhost:9000", "localhost:9000", False),
        ("localhost", "localhost:9000", False),
        ("127.0.0.1:50051", "127.0.0.1:50051", False),
        ("[::1]:9000", "[::1]:9000", False),
        ("[::1]", "[::1]:9000", False),
        ("http://localhost:9000", "localhost:9000", False),
        ("http://example.com", "example.com:80", False),
        ("HTTP://example.com:8080/", "example.com:8080", False),
        ("https://jobs.example.com", "jobs.example.com:443", True),
        ("https://[::1]:8443", "[::1]:8443", True),
    ],
)
def test_parse_address_accepts(address: str, target: str, tls: bool) -> None:
    assert parse_address(address) == Target(address=address, target=target, tls=tls)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("ftp://host:21", "scheme"),
        ("http://host:9000/api", "path"),
        ("host:port", "port"),
        ("host:70000", "port"),
        ("host:²", "port"),
        ("::1", "brackets"),
        ("", "host:port"),
        ("http://", "host:port"),
    ],
)
def test_parse_address_rejects(address: str, reason: str) -> None:
    with pytest.raises(InputError, match=reason):
        parse_address(address)


def test_unreachable_server_exits_3(closed_address: str) -> None:
    message = Cli(closed_address).error("runner", "list", expect=3)

    assert closed_address in message
    assert "jwp serve" in message
    assert "--address" in message


def test_unreachable_server_before_enqueue(closed_address: str) -> None:
    message = Cli(closed_address).error(
        "job", "enqueue", "-w", "Echo", "-a", "{}", "--json", expect=3
    )

    assert closed_address in message


def test_invalid_address_exits_2() -> None:
    message = Cli("http://localhost:9000/jobs").error("runner", "count", expect=2)

    assert "http://localhost:9000/jobs" in message


def test_unknown_command_is_one_line(cli: Cli) -> None:
    message = cli.error("worker", "frobnicate", expect=2)

    assert "frobnicate" in message
    assert "jwp worker --help" in message


def test_zero_id_is_a_usage_error(cli: Cli) -> None:
    message = cli.error("job", "find", "--id", "0", expect=2)

    assert "--id" in message


def test_group_without_command_prints_help(cli: Cli) -> None:
    result = cli("job", expect=2)

    assert "enqueue" in result.stdout


INT64_MAX = 2**63 - 1


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["job", "find", "--id", str(INT64_MAX + 1)], "--id"),
        (["job", "find", "--id", "-3"], "--id"),
        (["job-result", "find", "--id", str(INT64_MAX + 1)], "--id"),
        (["job-result", "list-by-job-id", "--job-id", str(INT64_MAX + 1)], "--job-id"),
        (["job", "enqueue", "-w", "Echo", "--timeout", "-5"], "--timeout"),
        (["job", "enqueue", "-w", "Echo", "--timeout", str(INT64_MAX + 1)], "--timeout"),
        (["job", "enqueue", "-w", "Echo", "--priority", "urgent"], "--priority"),
        (["job", "enqueue", "-w", "Echo", "-r", "99999999999999999999"], "--run-after-time"),
        (["job", "enqueue", "-w", "Echo", "-r", "+999999999d"], "--run-after-time"),
        (["job", "list", "--limit", "3000000000"], "--limit"),
        (["job", "list", "--offset", str(INT64_MAX + 1)], "--offset"),
        (["--timeout", str(INT64_MAX), "job", "count"], "--timeout"),
        (["--timeout", "-1", "job", "count"], "--timeout"),
        (["worker", "create", "--name", "W", "--runner-id", str(INT64_MAX + 1)], "--runner-id"),
        (["worker", "create", "--name", "W", "-r", "1", "--periodic", "5000000000"], "--periodic"),
        (["worker", "update", "--id", "1", "--retry-max", "5000000000"], "--retry-max"),
        (["runner", "find", "--id", str(INT64_MAX + 1)], "--id"),
        (["runner", "find", "--id", str(-(2**63) - 1)], "--id"),
        (["--address", "localhost:70000", "job", "count"], "--address"),
    ],
)
def test_out_of_range_number_is_usage_error(cli: Cli, args: list[str], option: str) -> None:
    message = cli.error(*args, expect=2)

    assert option in message
    assert "bug" not in message
