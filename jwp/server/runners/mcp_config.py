"""MCP server configuration: the MCP_CONFIG file and RunnerService.Create definitions.

The file lists servers under `server`, in TOML, JSON or YAML:

    [[server]]
    name = "time"
    description = "current time in a time zone"
    protocol = "stdio"                    # `transport` is accepted too
    command = "uvx"
    args = ["mcp-server-time"]
    envs = { LOCAL_TIMEZONE = "Asia/Tokyo" }

    [[server]]
    name = "remote"
    protocol = "sse"                      # or "streamable-http"
    url = "http://127.0.0.1:8080/sse"

A RunnerService.Create definition is one such entry without `name` and
`description` (the request carries those). A runner's `definition` field
shows its transport as JSON, e.g. `{"transport": "stdio", "command": "uvx",
"args": ["mcp-server-time"], "envs": {}}`, and that JSON is also how a
server created at run time is rebuilt at the next start-up.
"""

from __future__ import annotations

import json
import logging
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

logger = logging.getLogger(__name__)

TRANSPORT_NAMES = ("stdio", "sse", "streamable-http")


class McpConfigError(ValueError):
    """An MCP configuration file or definition that cannot be used; the message gives the reason."""


class _Transport(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StdioTransport(_Transport):
    """A server started as a child process that speaks MCP on its stdin and stdout."""

    transport: Literal["stdio"]
    command: str = Field(min_length=1)
    args: list[str] = Field(default_factory=list)
    envs: dict[str, str] = Field(default_factory=dict)
    """Variables added to the few the child inherits (HOME, PATH, SHELL, TERM, USER, LOGNAME)."""


class SseTransport(_Transport):
    """A server reached over HTTP with server-sent events (the older MCP HTTP transport)."""

    transport: Literal["sse"]
    url: str = Field(min_length=1)


class StreamableHttpTransport(_Transport):
    """A server reached over MCP's streamable HTTP transport."""

    transport: Literal["streamable-http"]
    url: str = Field(min_length=1)


McpTransport = Annotated[
    StdioTransport | SseTransport | StreamableHttpTransport, Field(discriminator="transport")
]
_TRANSPORT_ADAPTER: TypeAdapter[McpTransport] = TypeAdapter(McpTransport)


@dataclass(frozen=True)
class McpServerConfig:
    """One MCP server: the runner's name and description, and how to reach the server."""

    name: str
    description: str
    transport: StdioTransport | SseTransport | StreamableHttpTransport

    def definition_json(self) -> str:
        """Return the transport as the JSON text stored in the runner's `definition`."""
        return self.transport.model_dump_json()

    def describe_target(self) -> str:
        """Name what the server is, for log lines: its command or its URL."""
        transport = self.transport
        if isinstance(transport, StdioTransport):
            return f"stdio: {transport.command}"
        return f"{transport.transport}: {transport.url}"


def load_config_file(path: Path) -> list[McpServerConfig]:
    """Read the servers of an MCP config file; a missing file gives an empty list.

    Raises:
        McpConfigError: The file cannot be read or parsed, or it has no `server` list.
            An invalid server entry does not raise: it is logged and left out, so
            one typo does not disable the other servers.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        logger.info("MCP config file %s not found; no MCP server runners are configured", path)
        return []
    except OSError as error:
        raise McpConfigError(f"cannot read MCP config file {path}: {error}") from None

    document = parse_document(text, suffix=path.suffix.lower(), what=f"MCP config file {path}")
    entries = document.get("server", [])
    if not isinstance(entries, list):
        raise McpConfigError(
            f"MCP config file {path}: `server` must be a list of tables ([[server]] in TOML)"
        )

    configs: list[McpServerConfig] = []
    for position, entry in enumerate(entries, start=1):
        try:
            configs.append(_server_entry(entry, position))
        except McpConfigError as error:
            logger.error("MCP config file %s: %s; this server is left out", path, error)
    return configs


def parse_definition(text: str, *, name: str, description: str) -> McpServerConfig:
    """Parse a RunnerService.Create definition: one server's transport as TOML, JSON or YAML.

    The definition may also be a whole config document with exactly one
    `server` entry; `name` and `description` come from the request either way.

    Raises:
        McpConfigError: The text does not parse or does not describe one transport.
    """
    document = parse_document(text, suffix="", what="definition")
    entries = document.get("server")
    if entries is not None:
        if not isinstance(entries, list) or len(entries) != 1:
            raise McpConfigError(
                "definition has a `server` list; give exactly one server, or only its "
                "transport keys"
            )
        document = entries[0]
        if not isinstance(document, dict):
            raise McpConfigError("definition: the `server` entry must be a table")
    fields = {key: value for key, value in document.items() if key not in ("name", "description")}
    return McpServerConfig(
        name=name, description=description, transport=parse_transport(fields, f"server {name!r}")
    )


def parse_transport(fields: dict[str, Any], where: str) -> McpTransport:
    """Validate transport keys; `protocol` is accepted as another name for `transport`."""
    fields = dict(fields)
    if "protocol" in fields:
        protocol = fields.pop("protocol")
        if "transport" in fields and fields["transport"] != protocol:
            raise McpConfigError(
                f"{where}: protocol {protocol!r} and transport {fields['transport']!r} differ; "
                "give only one of them"
            )
        fields["transport"] = protocol
    transport = fields.get("transport")
    if transport is None:
        raise McpConfigError(
            f"{where}: the transport is missing; set protocol = one of {', '.join(TRANSPORT_NAMES)}"
        )
    if transport not in TRANSPORT_NAMES:
        raise McpConfigError(
            f"{where}: transport {transport!r} is not one of {', '.join(TRANSPORT_NAMES)}"
        )
    try:
        return _TRANSPORT_ADAPTER.validate_python(fields)
    except ValidationError as error:
        raise McpConfigError(f"{where}: {_first_problem(error)}") from None


def parse_document(text: str, *, suffix: str, what: str) -> dict[str, Any]:
    """Parse TOML, JSON or YAML into a mapping; `suffix` (".toml" …) picks one format.

    Without a known suffix the formats are tried in that order, and the
    error names the TOML problem, the format most definitions use.
    """
    parsers = {
        ".toml": _parse_toml,
        ".json": _parse_json,
        ".yaml": _parse_yaml,
        ".yml": _parse_yaml,
    }
    chosen = parsers.get(suffix)
    if chosen is not None:
        try:
            document = chosen(text)
        except ValueError as error:
            raise McpConfigError(f"{what} is not valid {suffix[1:].upper()}: {error}") from None
        return _require_mapping(document, what)

    first_error: ValueError | None = None
    for parse in (_parse_toml, _parse_json, _parse_yaml):
        try:
            document = parse(text)
        except ValueError as error:
            first_error = first_error or error
            continue
        if isinstance(document, dict):
            return document
    raise McpConfigError(f"{what} is not valid TOML, JSON or YAML (TOML: {first_error})")


def _server_entry(entry: object, position: int) -> McpServerConfig:
    if not isinstance(entry, dict):
        raise McpConfigError(f"server entry {position} is not a table")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise McpConfigError(f'server entry {position} has no name; add name = "..."')
    description = entry.get("description", "")
    if not isinstance(description, str):
        raise McpConfigError(f"server {name!r}: description must be a string")
    fields = {key: value for key, value in entry.items() if key not in ("name", "description")}
    return McpServerConfig(
        name=name, description=description, transport=parse_transport(fields, f"server {name!r}")
    )


def _parse_toml(text: str) -> object:
    return tomllib.loads(text)


def _parse_json(text: str) -> object:
    return json.loads(text)


def _parse_yaml(text: str) -> object:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ValueError(str(error)) from None


def _require_mapping(document: object, what: str) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise McpConfigError(f"{what} must hold a table (a mapping) at the top level")
    return document


def _first_problem(error: ValidationError) -> str:
    problem = error.errors()[0]
    location = ".".join(str(part) for part in problem["loc"] if part not in TRANSPORT_NAMES)
    if problem["type"] == "extra_forbidden":
        return f"unknown key {location!r}; check its spelling"
    return f"{location or 'value'}: {problem['msg']}"
