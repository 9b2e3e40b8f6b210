"""Helpers of the MCP runner tests: the test tools server, its definitions and args."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from jwp.proto.jobworkerp.runner.mcp_server_args_pb2 import McpServerArgs
from jwp.server.runners.mcp_config import McpServerConfig, parse_definition
from tests.support.waiting import eventually_sync

TOOLS_SERVER = Path(__file__).resolve().parent / "mcp_servers" / "tools_server.py"
TOOL_NAMES = "add, crash, echo, fail, media, pid, sleep"


def stdio_definition(sessions_file: Path | None = None) -> str:
    """TOML transport of the tools server over stdio; sessions are counted in `sessions_file`."""
    lines = [
        'protocol = "stdio"',
        f"command = {json.dumps(sys.executable)}",
        f"args = [{json.dumps(str(TOOLS_SERVER))}]",
    ]
    if sessions_file is not None:
        lines.append(f"envs = {{ JWP_TEST_MCP_SESSIONS = {json.dumps(str(sessions_file))} }}")
    return "\n".join(lines)


def stdio_config(sessions_file: Path | None = None, name: str = "tools") -> McpServerConfig:
    return parse_definition(stdio_definition(sessions_file), name=name, description="")


def tool_args(tool_name: str, arg_json: str = "") -> bytes:
    return McpServerArgs(tool_name=tool_name, arg_json=arg_json).SerializeToString()


def session_pids(sessions_file: Path) -> list[int]:
    """Pids of the sessions the tools server recorded, in order."""
    if not sessions_file.exists():
        return []
    return [int(line) for line in sessions_file.read_text().split()]


@contextlib.contextmanager
def http_tools_server(transport: str, folder: Path) -> Iterator[str]:
    """Run the tools server over SSE or streamable HTTP on a free loopback port; yield its URL."""
    port_file = folder / f"{transport}.port"
    process = subprocess.Popen(
        [sys.executable, str(TOOLS_SERVER), "--transport", transport, "--port-file", str(port_file)]
    )
    try:
        eventually_sync(
            lambda: port_file.exists() and port_file.read_text().strip(),
            timeout_s=30,
            message=f"{transport} MCP server listening",
        )
        path = "/sse" if transport == "sse" else "/mcp"
        yield f"http://127.0.0.1:{port_file.read_text().strip()}{path}"
    finally:
        process.terminate()
        process.wait(timeout=30)
