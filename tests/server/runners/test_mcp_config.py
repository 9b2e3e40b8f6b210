"""Parsing of MCP_CONFIG files and RunnerService.Create definitions."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from jwp.server.runners.mcp_config import (
    McpConfigError,
    SseTransport,
    StdioTransport,
    StreamableHttpTransport,
    load_config_file,
    parse_definition,
)

README_EXAMPLE = """
[[server]]
name = "time"
description = "timezone"
protocol = "stdio"
command = "uvx"
args = ["mcp-server-time", "--local-timezone=Asia/Tokyo"]

[[server]]
name = "fetch"
description = "fetch web page as markdown from web"
protocol = "stdio"
command = "uvx"
args = ["mcp-server-fetch"]

[[server]]
name = "test-server"
protocol = "sse"
url = "http://localhost:8080"
"""


def test_readme_example_with_protocol_key(tmp_path: Path) -> None:
    path = tmp_path / "mcp-settings.toml"
    path.write_text(README_EXAMPLE)

    servers = load_config_file(path)

    assert [server.name for server in servers] == ["time", "fetch", "test-server"]
    time_server = servers[0]
    assert time_server.description == "timezone"
    assert time_server.transport == StdioTransport(
        transport="stdio", command="uvx", args=["mcp-server-time", "--local-timezone=Asia/Tokyo"]
    )
    assert servers[2].transport == SseTransport(transport="sse", url="http://localhost:8080")


def test_transport_key_and_streamable_http(tmp_path: Path) -> None:
    path = tmp_path / "servers.toml"
    path.write_text(
        '[[server]]\nname = "a"\ntransport = "streamable-http"\nurl = "http://127.0.0.1:1/mcp"\n'
        '[[server]]\nname = "b"\ntransport = "stdio"\ncommand = "x"\nenvs = { KEY = "v" }\n'
    )

    first, second = load_config_file(path)

    assert first.transport == StreamableHttpTransport(
        transport="streamable-http", url="http://127.0.0.1:1/mcp"
    )
    assert isinstance(second.transport, StdioTransport)
    assert second.transport.envs == {"KEY": "v"}
    assert second.transport.args == []


def test_json_and_yaml_files(tmp_path: Path) -> None:
    document = {"server": [{"name": "j", "protocol": "sse", "url": "http://127.0.0.1:2/sse"}]}
    json_path = tmp_path / "servers.json"
    json_path.write_text(json.dumps(document))
    yaml_path = tmp_path / "servers.yaml"
    yaml_path.write_text("server:\n  - name: y\n    transport: stdio\n    command: run-me\n")

    assert load_config_file(json_path)[0].transport == SseTransport(
        transport="sse", url="http://127.0.0.1:2/sse"
    )
    assert load_config_file(yaml_path)[0].transport == StdioTransport(
        transport="stdio", command="run-me"
    )


def test_missing_file_gives_no_servers(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="jwp.server.runners.mcp_config")

    assert load_config_file(tmp_path / "absent.toml") == []
    assert "not found" in caplog.text


def test_invalid_entries_left_out(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "mixed.toml"
    path.write_text(
        '[[server]]\nname = "no-transport"\ncommand = "x"\n'
        '[[server]]\nname = "typo"\nprotocol = "stdio"\ncommand = "x"\nenv = { A = "b" }\n'
        '[[server]]\nname = "wrong"\nprotocol = "websocket"\nurl = "ws://x"\n'
        '[[server]]\nprotocol = "sse"\nurl = "http://x"\n'
        '[[server]]\nname = "ok"\nprotocol = "sse"\nurl = "http://127.0.0.1:3/sse"\n'
    )

    servers = load_config_file(path)

    assert [server.name for server in servers] == ["ok"]
    assert "server 'no-transport': the transport is missing" in caplog.text
    assert "unknown key 'env'" in caplog.text
    assert "transport 'websocket' is not one of stdio, sse, streamable-http" in caplog.text
    assert "server entry 4 has no name" in caplog.text


def test_unparsable_file_raises(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[[server]\nname =")

    with pytest.raises(McpConfigError, match="is not valid TOML"):
        load_config_file(path)


def test_definition_formats() -> None:
    toml = parse_definition('protocol = "stdio"\ncommand = "srv"', name="t", description="d")
    as_json = parse_definition(
        '{"transport": "sse", "url": "http://h/sse"}', name="j", description=""
    )
    as_yaml = parse_definition(
        "transport: streamable-http\nurl: http://h/mcp\n", name="y", description=""
    )
    wrapped = parse_definition(
        '[[server]]\nname = "ignored"\nprotocol = "stdio"\ncommand = "srv"',
        name="w",
        description="",
    )

    assert toml.name == "t"
    assert toml.description == "d"
    assert isinstance(toml.transport, StdioTransport)
    assert isinstance(as_json.transport, SseTransport)
    assert isinstance(as_yaml.transport, StreamableHttpTransport)
    assert wrapped.name == "w"
    assert wrapped.transport == toml.transport


def test_definition_json_round_trip() -> None:
    config = parse_definition(
        'protocol = "stdio"\ncommand = "srv"\nargs = ["-v"]', name="t", description=""
    )

    stored = json.loads(config.definition_json())

    assert stored == {"transport": "stdio", "command": "srv", "args": ["-v"], "envs": {}}
    assert parse_definition(config.definition_json(), name="t", description="") == config


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the transport is missing"),
        ("not [ valid", "is not valid TOML, JSON or YAML"),
        ('protocol = "stdio"', "command: Field required"),
        ('protocol = "sse"\ntransport = "stdio"\nurl = "x"', "differ"),
        ('[[server]]\nprotocol = "sse"\n[[server]]\nprotocol = "sse"', "exactly one server"),
    ],
)
def test_invalid_definitions(text: str, message: str) -> None:
    with pytest.raises(McpConfigError, match=message):
        parse_definition(text, name="bad", description="")
