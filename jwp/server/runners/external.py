"""Runners that are not built in: MCP servers and Python plugins.

They come from three places: the servers of the MCP_CONFIG file and the
plugins of PLUGINS_RUNNER_DIR and the `jwp.runners` entry points, found at
start-up; and RunnerService.Create at run time. Each gets a row in the
`runner` table, found by name, so its snowflake id stays the same across
restarts and workers keep pointing at it. At start-up every MCP_SERVER and
PLUGIN row is loaded again from its `definition`, including rows created at
run time; a row stays until RunnerService.Delete removes it, even when its
server or plugin is gone from the configuration.

Every MCP server is connected and its tools listed before it is added, all
servers at once, each within JWP_MCP_CONNECT_TIMEOUT_MS: a server that
fails is logged with its error and left out, and start-up goes on.

In Scalable mode every process loads the runners at start-up, and a runner
that one process creates or deletes is announced to the others (see
`reload`), which load or drop it. The processes of one deployment should
share one MCP_CONFIG and PLUGINS_RUNNER_DIR: the row of a configured runner
follows the configuration of the process that started last.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from jwp.config import Settings
from jwp.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    RunnerError,
)
from jwp.ids import SnowflakeGenerator
from jwp.names import name_problem
from jwp.proto.jobworkerp.data import common_pb2
from jwp.server.storage import RunnerRepository, RunnerRow

from .mcp_config import McpConfigError, McpServerConfig, load_config_file, parse_definition
from .mcp_config import parse_transport as parse_mcp_transport
from .plugins import (
    ENTRY_POINT_PREFIX,
    LoadedPlugin,
    PluginError,
    PluginHost,
    find_plugin_paths,
    load_plugin,
    plugin_entry_points,
    plugin_runner_spec,
)
from .registry import MAX_RESERVED_RUNNER_ID, RunnerRegistry

if TYPE_CHECKING:
    from .base import RunnerSpec

logger = logging.getLogger(__name__)

MCP_SERVER = common_pb2.RunnerType.MCP_SERVER
PLUGIN = common_pb2.RunnerType.PLUGIN

PoolDropper = Callable[[int], Awaitable[None]]
"""Close the static runner pools of the workers that use a runner id."""

ChangePublisher = Callable[[int], Awaitable[None]]
"""Tell the other processes of a deployment that a runner id was created or deleted."""


class ExternalRunners:
    """Loads, adds and removes the MCP server and plugin runners of one server process."""

    def __init__(
        self,
        *,
        settings: Settings,
        registry: RunnerRegistry,
        repository: RunnerRepository,
        ids: SnowflakeGenerator,
        drop_pools: PoolDropper,
    ) -> None:
        self._settings = settings
        self._registry = registry
        self._repository = repository
        self._ids = ids
        self._drop_pools = drop_pools
        self._connect_timeout_s = settings.jwp_mcp_connect_timeout_ms / 1000
        self._hosts: dict[int, PluginHost] = {}
        self._publish_change: ChangePublisher | None = None

    def set_change_publisher(self, publish: ChangePublisher) -> None:
        """Announce runners created or deleted here to the other processes (Scalable mode)."""
        self._publish_change = publish

    async def load_at_startup(self) -> None:
        """Add the configured, discovered and stored MCP servers and plugins to the registry."""
        rows = await self._repository.find_all()
        claims = _NameClaims(rows)
        mcp_servers: list[tuple[int, McpServerConfig]] = []
        plugins: list[tuple[int, str, str, LoadedPlugin]] = []

        for config in self._configured_mcp_servers():
            row_id = await self._claim(
                claims, config.name, MCP_SERVER, config.description, config.definition_json()
            )
            if row_id is not None:
                mcp_servers.append((row_id, config))
        for plugin in await self._discovered_plugins():
            definition = plugin.definition
            row_id = await self._claim(
                claims, definition.name, PLUGIN, definition.description, plugin.source
            )
            if row_id is not None:
                plugins.append((row_id, definition.name, definition.description, plugin))
        for row in claims.unclaimed():
            await self._add_stored(row, mcp_servers, plugins)

        added_servers = await self._add_mcp_servers(mcp_servers)
        for row_id, name, description, plugin in plugins:
            self._add_plugin(row_id, name, description, plugin)
        logger.info(
            "external runners: %d of %d MCP server(s) connected%s, %d plugin(s)%s",
            len(added_servers),
            len(mcp_servers),
            _names(added_servers),
            len(plugins),
            _names([name for _, name, _, _ in plugins]),
        )

    async def create(
        self, *, name: str, description: str, runner_type: int, definition: str
    ) -> int:
        """Add an MCP server or plugin runner at run time and return its id.

        Raises:
            InvalidArgumentError: Empty name, another runner type, or a definition
                that does not parse or load.
            AlreadyExistsError: A runner with that name exists.
            FailedPreconditionError: The MCP server cannot be connected to.
        """
        problem = name_problem(name, "runner")
        if problem is not None:
            raise InvalidArgumentError(problem)
        existing = self._registry.find_by_name(name) or await self._repository.find_by_name(name)
        if existing is not None:
            raise AlreadyExistsError(
                f"a runner named {name!r} already exists (id {existing.id}); choose another name "
                f"or delete it first with `jwp runner delete --id {existing.id}`"
            )
        if runner_type == MCP_SERVER:
            runner_id = await self._create_mcp_server(name, description, definition)
        elif runner_type == PLUGIN:
            runner_id = await self._create_plugin(name, description, definition)
        else:
            raise InvalidArgumentError(
                f"runner_type {runner_type} cannot be created; only MCP_SERVER and PLUGIN runners "
                "are added at run time"
            )
        await self._announce(runner_id)
        return runner_id

    async def delete(self, runner_id: int) -> bool:
        """Remove a runner, close the static instances that use it, and delete its row."""
        deleted = await self._repository.delete(runner_id)
        removed = await self._drop(runner_id)
        if removed or deleted:
            logger.info("runner %d deleted", runner_id)
            await self._announce(runner_id)
        return removed or deleted

    async def reload(self, runner_id: int) -> None:
        """Follow a change another process announced: load the runner's row, or drop the runner.

        A row that exists is loaded unless this process already runs that
        runner; an MCP server is connected to first, as at start-up.
        """
        row = await self._repository.find(runner_id)
        if row is None or row.runner_type not in (MCP_SERVER, PLUGIN):
            if await self._drop(runner_id):
                logger.info("runner %d dropped: another process deleted it", runner_id)
            return
        if self._registry.find(runner_id) is not None:
            return
        mcp_servers: list[tuple[int, McpServerConfig]] = []
        plugins: list[tuple[int, str, str, LoadedPlugin]] = []
        await self._add_stored(row, mcp_servers, plugins)
        await self._add_mcp_servers(mcp_servers)
        for plugin_row_id, name, description, plugin in plugins:
            self._add_plugin(plugin_row_id, name, description, plugin)
            logger.info("plugin %r (runner %d) loaded: another process created it", name, runner_id)

    async def _drop(self, runner_id: int) -> bool:
        """Forget a runner in this process, closing its static instances and plugin host."""
        spec = self._registry.remove(runner_id)
        await self._drop_pools(runner_id)
        host = self._hosts.pop(runner_id, None)
        if host is not None:
            await host.close()
        return spec is not None

    async def _announce(self, runner_id: int) -> None:
        if self._publish_change is None:
            return
        try:
            await self._publish_change(runner_id)
        except Exception as error:
            # The change is stored; other processes pick it up at their next start.
            logger.warning(
                "runner %d: telling the other processes about the change failed: %s",
                runner_id,
                error,
            )

    async def close(self) -> None:
        """Stop the plugin hosts; call after the runner instances were closed."""
        hosts, self._hosts = self._hosts, {}
        for host in hosts.values():
            await host.close()

    async def _create_mcp_server(self, name: str, description: str, definition: str) -> int:
        try:
            config = parse_definition(definition, name=name, description=description)
        except McpConfigError as error:
            raise InvalidArgumentError(f"invalid MCP server definition: {error}") from None
        try:
            tools = await probe(config, self._connect_timeout_s)
        except RunnerError as error:
            raise FailedPreconditionError(
                f"MCP server runner {name!r} was not created: {error}; fix the definition or start "
                "the server, then create it again"
            ) from None
        runner_id = await self._insert(name, description, config.definition_json(), MCP_SERVER)
        self._registry.add(mcp_runner_spec(runner_id, config, self._connect_timeout_s))
        logger.info(
            "runner %r (MCP_SERVER, id %d) created: %s, tools %s",
            name,
            runner_id,
            config.describe_target(),
            ", ".join(tools) or "(none)",
        )
        return runner_id

    async def _create_plugin(self, name: str, description: str, definition: str) -> int:
        source = definition.strip()
        if not source:
            raise InvalidArgumentError(
                "definition is empty; give the path of the plugin's .py file or package folder"
            )
        if not source.startswith(ENTRY_POINT_PREFIX):
            source = await asyncio.to_thread(_absolute_path, source)
        try:
            plugin = await load_plugin(source)
        except PluginError as error:
            raise InvalidArgumentError(
                f"plugin runner {name!r} was not created from its definition: {error}"
            ) from None
        runner_id = await self._insert(name, description, plugin.source, PLUGIN)
        self._add_plugin(runner_id, name, description, plugin)
        logger.info("runner %r (PLUGIN, id %d) created from %s", name, runner_id, plugin.source)
        return runner_id

    async def _insert(self, name: str, description: str, definition: str, runner_type: int) -> int:
        runner_id = self._ids.next_id()
        await self._repository.insert(
            RunnerRow(
                id=runner_id,
                name=name,
                description=description,
                definition=definition,
                runner_type=runner_type,
            )
        )
        return runner_id

    def _configured_mcp_servers(self) -> list[McpServerConfig]:
        try:
            return load_config_file(self._settings.mcp_config)
        except McpConfigError as error:
            logger.error("%s; no MCP servers are loaded from it", error)
            return []

    async def _discovered_plugins(self) -> list[LoadedPlugin]:
        sources = [str(path) for path in find_plugin_paths(self._settings.plugins_runner_dir)]
        sources += [ENTRY_POINT_PREFIX + entry.value for entry in plugin_entry_points()]
        plugins: list[LoadedPlugin] = []
        for source in sources:
            try:
                plugins.append(await load_plugin(source))
            except PluginError as error:
                logger.error("%s; this plugin is left out", error)
        return plugins

    async def _claim(
        self, claims: _NameClaims, name: str, runner_type: int, description: str, definition: str
    ) -> int | None:
        """Return the runner id for a configured name: its row's, or a new row's."""
        if name in claims.declared:
            logger.error("runner name %r is configured twice; the second one is left out", name)
            return None
        claims.declared.add(name)
        row = claims.by_name.get(name)
        if row is None:
            try:
                return await self._insert(name, description, definition, runner_type)
            except AlreadyExistsError:
                # Another process of the deployment inserted it since the rows were read.
                row = await self._repository.find_by_name(name)
                if row is None:
                    raise
        if row.runner_type != runner_type or row.id <= MAX_RESERVED_RUNNER_ID:
            logger.error(
                "runner name %r is taken by runner %d of type %s; rename the %s to load it",
                name,
                row.id,
                _type_name(row.runner_type),
                _type_name(runner_type),
            )
            return None
        if row.definition != definition or row.description != description:
            await self._repository.update(
                RunnerRow(
                    id=row.id,
                    name=name,
                    description=description,
                    definition=definition,
                    runner_type=runner_type,
                )
            )
        return row.id

    async def _add_stored(
        self,
        row: RunnerRow,
        mcp_servers: list[tuple[int, McpServerConfig]],
        plugins: list[tuple[int, str, str, LoadedPlugin]],
    ) -> None:
        """Queue a stored MCP_SERVER or PLUGIN row that no configuration declared for loading."""
        if row.runner_type == MCP_SERVER:
            try:
                transport = parse_mcp_transport(json.loads(row.definition), f"runner {row.name!r}")
            except (ValueError, TypeError, AttributeError) as error:
                logger.error(
                    "runner %r (id %d): its stored MCP definition is invalid (%s); left out",
                    row.name,
                    row.id,
                    error,
                )
                return
            config = McpServerConfig(
                name=row.name, description=row.description, transport=transport
            )
            mcp_servers.append((row.id, config))
        elif row.runner_type == PLUGIN:
            try:
                plugin = await load_plugin(row.definition)
            except PluginError as error:
                logger.error("runner %r (id %d): %s; left out", row.name, row.id, error)
                return
            plugins.append((row.id, row.name, row.description, plugin))

    async def _add_mcp_servers(self, servers: list[tuple[int, McpServerConfig]]) -> list[str]:
        """Probe every server at once and register those that respond; return their names."""
        outcomes = await asyncio.gather(
            *(probe(config, self._connect_timeout_s) for _, config in servers),
            return_exceptions=True,
        )
        added: list[str] = []
        for (runner_id, config), outcome in zip(servers, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                if not isinstance(outcome, Exception):
                    raise outcome
                logger.error(
                    "MCP server %r (runner %d) left out: %s", config.name, runner_id, outcome
                )
                continue
            self._registry.add(mcp_runner_spec(runner_id, config, self._connect_timeout_s))
            added.append(config.name)
            logger.info(
                "MCP server %r (runner %d, %s) ready with tools %s",
                config.name,
                runner_id,
                config.describe_target(),
                ", ".join(outcome) or "(none)",
            )
        return added

    def _add_plugin(
        self, runner_id: int, name: str, description: str, plugin: LoadedPlugin
    ) -> None:
        host = PluginHost(name)
        self._hosts[runner_id] = host
        self._registry.add(plugin_runner_spec(runner_id, name, description, plugin, host))


class _NameClaims:
    """Runner rows by name, and the names the configuration declared during this start-up."""

    def __init__(self, rows: list[RunnerRow]) -> None:
        self.by_name = {row.name: row for row in rows}
        self.declared: set[str] = set()

    def unclaimed(self) -> list[RunnerRow]:
        """Stored MCP_SERVER and PLUGIN rows that no configuration declared."""
        return [
            row
            for row in self.by_name.values()
            if row.name not in self.declared
            and row.runner_type in (MCP_SERVER, PLUGIN)
            and row.id > MAX_RESERVED_RUNNER_ID
        ]


async def probe(config: McpServerConfig, connect_timeout_s: float) -> list[str]:
    """Connect to an MCP server and list its tool names (see `mcp_session.probe`)."""
    # The mcp SDK takes about a second to import, so a server without MCP
    # servers never imports it.
    from .mcp_session import probe as probe_session

    return await probe_session(config, connect_timeout_s)


def mcp_runner_spec(
    runner_id: int, config: McpServerConfig, connect_timeout_s: float
) -> RunnerSpec:
    from .mcp_runner import mcp_runner_spec as build_spec

    return build_spec(runner_id, config, connect_timeout_s)


def _absolute_path(path: str) -> str:
    """Resolve a plugin path given to Create against the server's working directory."""
    return str(Path(path).expanduser().resolve())


def _type_name(runner_type: int) -> str:
    try:
        return common_pb2.RunnerType.Name(runner_type)
    except ValueError:
        return str(runner_type)


def _names(names: list[str]) -> str:
    return f" ({', '.join(names)})" if names else ""
