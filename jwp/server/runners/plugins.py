"""Plugin runners: the contract a Python plugin implements, and how jwp loads and runs it.

Where plugins come from:

* a module (`name.py`) or a package (`name/__init__.py`) in one of the
  folders of PLUGINS_RUNNER_DIR (comma-separated; unset means none), or
* an entry point in the group `jwp.runners` of an installed distribution,
  e.g. `[project.entry-points."jwp.runners"] hello = "hello_pkg"`, or
* a file or package path given to RunnerService.Create.

The contract: the module has an attribute `jwp_runner` (an entry point may
name the object itself) that is a `PluginDefinition`, an object with the
same attributes, or a callable without arguments that returns one:

    from jwp.server.runners.plugins import PluginDefinition

    class Greeter:
        async def load(self, settings: bytes) -> None: ...      # optional
        async def run(self, args: bytes, metadata: Mapping[str, str]) -> bytes: ...
        async def run_stream(self, args, metadata) -> AsyncIterator[bytes]: ...  # optional
        async def close(self) -> None: ...                      # optional

    jwp_runner = PluginDefinition(
        name="Greeter",
        description="Greets",
        runner_class=Greeter,
        settings_proto=SETTINGS_PROTO_TEXT,   # "" when the settings are raw bytes
        args_proto=ARGS_PROTO_TEXT,
        result_proto=RESULT_PROTO_TEXT,       # None when the result is raw bytes
        output_type="NON_STREAMING",          # or "STREAMING" / "BOTH"
    )

`runner_class` is called without arguments for each runner instance (one
per job, or one per pooled instance of a `use_static` worker). `settings`,
`args` and every result are protobuf bytes of the first message of the
matching proto text. `run_stream` yields one encoded result message per
chunk. Each method may be a coroutine function (`run_stream` an async
generator) or a plain function (`run_stream` a generator).

How jwp runs a plugin:

* Coroutines of one plugin run on that plugin's own event loop, in a thread
  of its own (`PluginHost`). A plugin that blocks its loop, e.g. with
  `time.sleep` inside `async def run`, stalls only its own jobs; the server
  keeps serving and running other jobs.
* A plain method runs each call in a new thread.
* An exception fails the job with OTHER_ERROR and the exception text; a
  `jwp.errors.RunnerError` subclass keeps its own status (raise
  `RetryableRunnerError` to have the job retried). An exception from
  `load` fails the job with FATAL_ERROR.
* Past the job timeout, a coroutine is cancelled (the plugin sees
  `CancelledError`). A plain function cannot be stopped: its thread is
  abandoned and runs on until the function returns (see `_call_in_thread`).
* A plugin that fails to import, or whose `jwp_runner` is invalid, is logged
  and left out; the other plugins load.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import importlib
import importlib.metadata
import importlib.util
import inspect
import logging
import re
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar, cast

from jwp import schema
from jwp.errors import FatalRunnerError, RunnerError
from jwp.proto.jobworkerp.data import common_pb2, runner_pb2

from .base import Runner, RunnerSpec

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "jwp.runners"
ENTRY_POINT_PREFIX = "entry-point:"
"""Start of a plugin runner's `definition` when the plugin came from an entry point."""

ATTRIBUTE = "jwp_runner"

# Limit for importing one plugin module, so a module that hangs at import
# cannot stop start-up, in s.
IMPORT_TIMEOUT_S = 30.0

# How long `close` of a plugin instance may take before it is left to finish
# on its own, in s.
CLOSE_TIMEOUT_S = 5.0

# Chunks a streaming plugin may run ahead of the job that forwards them.
STREAM_BUFFER_CHUNKS = 16

T = TypeVar("T")


class PluginError(ValueError):
    """A plugin that cannot be loaded; the message names the plugin and the reason."""


@dataclass(frozen=True)
class PluginDefinition:
    """The plugin description a module exposes as `jwp_runner`.

    Attributes:
        name: Runner name, unique among the runners of the server.
        description: One line shown by RunnerService.
        runner_class: Called without arguments to create each runner instance.
        settings_proto: Proto file text whose first message is the worker
            settings, or "" for raw bytes.
        args_proto: Proto file text whose first message is the job args, or "".
        result_proto: Proto file text whose first message is the result, or
            None for raw bytes.
        output_type: "NON_STREAMING", "STREAMING" or "BOTH" (or the
            StreamingOutputType number).
    """

    name: str
    description: str
    runner_class: Callable[[], object]
    settings_proto: str = ""
    args_proto: str = ""
    result_proto: str | None = None
    output_type: str | int = "NON_STREAMING"


@dataclass(frozen=True)
class LoadedPlugin:
    """A plugin whose definition was checked, with where it came from."""

    definition: PluginDefinition
    output_type: runner_pb2.StreamingOutputType
    source: str
    """The runner's `definition`: a file or package path, or `entry-point:<value>`."""


# ---------------------------------------------------------------- discovery


def find_plugin_paths(folders: list[Path]) -> list[Path]:
    """List the plugin modules and packages in the given folders, in name order.

    Names starting with `_` or `.` are skipped. A folder that does not exist
    is logged and skipped.
    """
    paths: list[Path] = []
    for folder in folders:
        if not folder.is_dir():
            logger.warning("plugin folder %s does not exist or is not a folder; skipped", folder)
            continue
        for entry in sorted(folder.iterdir()):
            if entry.name.startswith(("_", ".")):
                continue
            is_module = entry.is_file() and entry.suffix == ".py"
            is_package = entry.is_dir() and (entry / "__init__.py").is_file()
            if is_module or is_package:
                paths.append(entry.resolve())
    return paths


def plugin_entry_points() -> list[importlib.metadata.EntryPoint]:
    """List the entry points of the `jwp.runners` group, in name order."""
    return sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)


async def load_plugin(source: str) -> LoadedPlugin:
    """Import a plugin from a path or `entry-point:<value>` and check its definition.

    The import runs in a thread and is abandoned after IMPORT_TIMEOUT_S, so
    a module that blocks at import does not block the server.

    Raises:
        PluginError: The path does not exist, the import failed, or the
            definition is invalid.
    """
    try:
        target = await asyncio.wait_for(
            asyncio.to_thread(_import_target, source), timeout=IMPORT_TIMEOUT_S
        )
    except TimeoutError:
        raise PluginError(
            f"plugin {source}: importing it took longer than {IMPORT_TIMEOUT_S:.0f} s"
        ) from None
    definition = await asyncio.to_thread(_definition_of, target, source)
    return LoadedPlugin(
        definition=definition, output_type=_output_type(definition, source), source=source
    )


def _import_target(source: str) -> object:
    """Return the object a source names: the module's `jwp_runner`, or an entry point's object."""
    if source.startswith(ENTRY_POINT_PREFIX):
        value = source[len(ENTRY_POINT_PREFIX) :]
        entry_point = importlib.metadata.EntryPoint(
            name=value, value=value, group=ENTRY_POINT_GROUP
        )
        try:
            loaded = entry_point.load()
        except Exception as error:
            raise PluginError(f"plugin {source}: import failed: {_describe(error)}") from error
        return _runner_attribute(loaded, source) if isinstance(loaded, ModuleType) else loaded
    return _runner_attribute(_import_path(Path(source)), source)


def _import_path(path: Path) -> ModuleType:
    """Import a module file or package folder under a name derived from its path."""
    if not path.exists():
        raise PluginError(f"plugin path {path} does not exist; give a .py file or a package folder")
    is_package = path.is_dir()
    init_file = path / "__init__.py" if is_package else path
    if is_package and not init_file.is_file():
        raise PluginError(f"plugin folder {path} is not a package: it has no __init__.py")
    if not is_package and path.suffix != ".py":
        raise PluginError(f"plugin file {path} is not a Python file (.py)")

    # A name of its own per path, so plugins with the same file name in
    # different folders do not replace each other in sys.modules.
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:10]
    stem = re.sub(r"\W", "_", path.stem)
    module_name = f"jwp_plugin_{stem}_{digest}"
    if module_name in sys.modules:
        return sys.modules[module_name]

    spec = importlib.util.spec_from_file_location(
        module_name, init_file, submodule_search_locations=[str(path)] if is_package else None
    )
    if spec is None or spec.loader is None:
        raise PluginError(f"plugin {path}: Python cannot import it")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as error:
        sys.modules.pop(module_name, None)
        raise PluginError(f"plugin {path}: import failed: {_describe(error)}") from error
    return module


def _runner_attribute(module: ModuleType, source: str) -> object:
    target = getattr(module, ATTRIBUTE, None)
    if target is None:
        raise PluginError(
            f"plugin {source} has no `{ATTRIBUTE}`; define it as a PluginDefinition "
            "(see jwp.server.runners.plugins)"
        )
    return target


def _definition_of(target: object, source: str) -> PluginDefinition:
    """Turn `jwp_runner` (a definition, a look-alike, or a factory of one) into a definition."""
    if not _looks_like_definition(target) and callable(target):
        try:
            target = target()
        except Exception as error:
            raise PluginError(
                f"plugin {source}: calling `{ATTRIBUTE}()` failed: {_describe(error)}"
            ) from error
    if not _looks_like_definition(target):
        raise PluginError(
            f"plugin {source}: `{ATTRIBUTE}` is a {type(target).__name__}, not a plugin "
            "definition; it needs name, description and runner_class"
        )
    definition = PluginDefinition(
        name=getattr(target, "name", ""),
        description=getattr(target, "description", "") or "",
        runner_class=getattr(target, "runner_class"),  # noqa: B009 - duck-typed attribute
        settings_proto=getattr(target, "settings_proto", "") or "",
        args_proto=getattr(target, "args_proto", "") or "",
        result_proto=getattr(target, "result_proto", None) or None,
        output_type=getattr(target, "output_type", "NON_STREAMING"),
    )
    _check_definition(definition, source)
    return definition


def _looks_like_definition(target: object) -> bool:
    return (
        not isinstance(target, type) and hasattr(target, "name") and hasattr(target, "runner_class")
    )


def _check_definition(definition: PluginDefinition, source: str) -> None:
    if not isinstance(definition.name, str) or not definition.name.strip():
        raise PluginError(f"plugin {source}: `name` must be a non-empty string")
    if not callable(definition.runner_class):
        raise PluginError(f"plugin {definition.name!r}: `runner_class` must be callable")
    texts = {
        "settings_proto": definition.settings_proto,
        "args_proto": definition.args_proto,
        "result_proto": definition.result_proto or "",
    }
    for field_name, text in texts.items():
        if not isinstance(text, str):
            raise PluginError(f"plugin {definition.name!r}: `{field_name}` must be a string")
        try:
            schema.compile_first_message(text)
        except schema.SchemaError as error:
            raise PluginError(f"plugin {definition.name!r}: `{field_name}` {error}") from None


def _output_type(definition: PluginDefinition, source: str) -> runner_pb2.StreamingOutputType:
    value = definition.output_type
    try:
        name = value if isinstance(value, str) else runner_pb2.StreamingOutputType.Name(value)
        output_type = cast(
            runner_pb2.StreamingOutputType,
            runner_pb2.StreamingOutputType.Value(name.strip().upper()),
        )
    except ValueError:
        raise PluginError(
            f"plugin {definition.name!r}: output_type {value!r} is not one of NON_STREAMING, "
            "STREAMING, BOTH"
        ) from None
    runner_class = definition.runner_class
    streams = output_type in (runner_pb2.STREAMING, runner_pb2.BOTH)
    if streams and not hasattr(runner_class, "run_stream"):
        type_name = runner_pb2.StreamingOutputType.Name(output_type)
        raise PluginError(
            f"plugin {definition.name!r}: output_type {type_name} needs a run_stream method"
        )
    if output_type != runner_pb2.STREAMING and not hasattr(runner_class, "run"):
        raise PluginError(f"plugin {definition.name!r} ({source}): runner_class has no run method")
    return output_type


def plugin_runner_spec(
    runner_id: int, name: str, description: str, plugin: LoadedPlugin, host: PluginHost
) -> RunnerSpec:
    """Describe a plugin runner; its instances run on `host`."""
    definition = plugin.definition
    return RunnerSpec(
        id=runner_id,
        name=name,
        description=description or definition.description,
        runner_type=common_pb2.RunnerType.PLUGIN,
        settings_proto=definition.settings_proto,
        args_proto=definition.args_proto,
        result_proto=definition.result_proto,
        output_type=plugin.output_type,
        definition=plugin.source,
        factory=lambda: PluginRunner(name, definition, host),
    )


# ---------------------------------------------------------------- hosting


class PluginHost:
    """An event loop in a thread of its own, where one plugin's coroutines run.

    The loop starts with the host and stops with `close`. Cancelling the
    awaiting job cancels the plugin's coroutine on this loop without
    waiting for it, so a plugin that ignores cancellation or blocks its loop
    cannot hold up the job's result.
    """

    def __init__(self, plugin_name: str) -> None:
        self.plugin_name = plugin_name
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"jwp-plugin-{plugin_name}", daemon=True
        )
        self._thread.start()

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Start a coroutine on the plugin's loop."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    async def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the plugin's loop and wait for it from the caller's loop."""
        return await asyncio.wrap_future(self.submit(coroutine))

    async def close(self) -> None:
        """Cancel what still runs on the loop, stop it and wait for its thread, within bounds."""
        if self._loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):
            self.submit(_cancel_other_tasks()).add_done_callback(
                lambda _: self._loop.call_soon_threadsafe(self._loop.stop)
            )
        await asyncio.to_thread(self._thread.join, CLOSE_TIMEOUT_S)
        if self._thread.is_alive():
            # NOTE: a plugin that blocks its loop (time.sleep in a coroutine)
            # keeps this daemon thread alive until the call returns or the
            # process exits, because Python cannot stop a thread.
            logger.warning(
                "plugin %r: its event loop did not stop within %.0f s; leaving its thread",
                self.plugin_name,
                CLOSE_TIMEOUT_S,
            )
            return
        self._loop.close()
        logger.debug("plugin %r: host loop stopped", self.plugin_name)


async def _cancel_other_tasks() -> None:
    current = asyncio.current_task()
    tasks = [task for task in asyncio.all_tasks() if task is not current]
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=CLOSE_TIMEOUT_S)


class PluginRunner(Runner):
    """One instance of a plugin's runner class, driven from the server's loop."""

    def __init__(self, name: str, definition: PluginDefinition, host: PluginHost) -> None:
        self._name = name
        self._definition = definition
        self._host = host
        self._instance: object | None = None
        self._construct_on_run = False
        """Whether `run` creates the instance, in the same hop to the plugin's loop."""
        self._abandoned = False
        """Whether a call was left running after its job stopped, so `close` must not wait."""

    async def load(self, settings: bytes) -> None:
        """Create the plugin's instance (on its host thread) and call its `load`.

        Raises:
            FatalRunnerError: The instance could not be created or `load` raised.
        """
        runner_class = self._definition.runner_class
        if not hasattr(runner_class, "load") and inspect.iscoroutinefunction(
            getattr(runner_class, "run", None)
        ):
            # Without a `load`, nothing happens between creating the instance
            # and running it, so both take one crossing to the plugin's thread.
            self._construct_on_run = True
            return
        try:
            self._instance = await self._host.run(_construct(runner_class))
            if hasattr(self._instance, "load"):
                await self._call("load", settings)
        except RunnerError:
            raise
        except Exception as error:
            raise FatalRunnerError(
                f"plugin {self._name!r} failed to load: {_describe(error)}"
            ) from error

    async def run(self, args: bytes, metadata: Mapping[str, str]) -> bytes:
        """Call the plugin's `run` and return its bytes.

        Raises:
            RunnerError: The plugin raised (OTHER_ERROR unless it raised a
                RunnerError subclass itself) or returned something other than bytes.
        """
        if self._construct_on_run and self._instance is None:
            result = await self._construct_and_run(args, dict(metadata))
        else:
            result = await self._call_checked("run", args, dict(metadata))
        return _as_bytes(result, self._name)

    async def _construct_and_run(self, args: bytes, metadata: dict[str, str]) -> Any:
        """Create the instance and call its coroutine `run` in one hop to the plugin's loop."""

        async def construct_and_run() -> Any:
            try:
                instance = self._definition.runner_class()
            except Exception as error:
                raise _ConstructionError(error) from error
            self._instance = instance
            return await getattr(instance, "run")(args, metadata)  # noqa: B009 - checked at load

        try:
            return await self._host.run(construct_and_run())
        except asyncio.CancelledError:
            self._abandoned = True
            raise
        except _ConstructionError as error:
            raise FatalRunnerError(
                f"plugin {self._name!r} failed to load: {_describe(error.cause)}"
            ) from error.cause
        except RunnerError:
            raise
        except Exception as error:
            raise self._runner_error(error) from error

    async def run_stream(self, args: bytes, metadata: Mapping[str, str]) -> AsyncIterator[bytes]:
        """Forward the chunks of the plugin's `run_stream` as it yields them."""
        if self._construct_on_run and self._instance is None:
            try:
                self._instance = await self._host.run(_construct(self._definition.runner_class))
            except Exception as error:
                raise FatalRunnerError(
                    f"plugin {self._name!r} failed to load: {_describe(error)}"
                ) from error
        method = getattr(self._require_instance(), "run_stream")  # noqa: B009 - checked at load
        chunks: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(STREAM_BUFFER_CHUNKS)
        loop = asyncio.get_running_loop()
        stop = threading.Event()
        if inspect.isasyncgenfunction(method):
            producer: concurrent.futures.Future[None] = self._host.submit(
                _pump_async(method(args, dict(metadata)), chunks, loop)
            )
        else:
            producer = _start_thread(
                lambda: _pump_sync(method, args, dict(metadata), chunks, loop, stop),
                f"jwp-plugin-{self._name}-stream",
            )
        try:
            while True:
                kind, value = await chunks.get()
                if kind == "chunk":
                    yield _as_bytes(value, self._name)
                elif kind == "error":
                    raise self._runner_error(value)
                else:
                    return
        finally:
            if not producer.done():
                self._abandoned = True
                stop.set()
                producer.cancel()

    async def close(self) -> None:
        """Call the plugin's `close`, waiting at most CLOSE_TIMEOUT_S for it."""
        instance, self._instance = self._instance, None
        if instance is None or not hasattr(instance, "close"):
            return
        call = asyncio.ensure_future(self._invoke(instance, "close"))
        if self._abandoned:
            # A call of this instance may still occupy the plugin's loop or a thread,
            # so close runs in the background instead of delaying the job's result.
            call.add_done_callback(self._log_close_failure)
            return
        done, _ = await asyncio.wait({call}, timeout=CLOSE_TIMEOUT_S)
        if not done:
            logger.warning(
                "plugin %r: close() did not return within %.0f s; left running",
                self._name,
                CLOSE_TIMEOUT_S,
            )
            call.add_done_callback(self._log_close_failure)
            return
        self._log_close_failure(call)

    def _log_close_failure(self, call: asyncio.Future[Any]) -> None:
        if call.cancelled():
            return
        error = call.exception()
        if error is not None:
            logger.warning("plugin %r: close() raised %s", self._name, _describe(error))

    async def _call_checked(self, method_name: str, *args: Any) -> Any:
        try:
            return await self._call(method_name, *args)
        except RunnerError:
            raise
        except Exception as error:
            raise self._runner_error(error) from error

    async def _call(self, method_name: str, *args: Any) -> Any:
        return await self._invoke(self._require_instance(), method_name, *args)

    async def _invoke(self, instance: object, method_name: str, *args: Any) -> Any:
        method = getattr(instance, method_name)
        if inspect.iscoroutinefunction(method):
            waiting: Awaitable[Any] = self._host.run(method(*args))
        else:
            waiting = _call_in_thread(method, *args, thread_name=f"jwp-plugin-{self._name}")
        try:
            return await waiting
        except asyncio.CancelledError:
            self._abandoned = True
            raise

    def _require_instance(self) -> object:
        if self._instance is None:
            raise FatalRunnerError(f"plugin {self._name!r} was not loaded before it was run")
        return self._instance

    def _runner_error(self, error: BaseException) -> RunnerError:
        if isinstance(error, RunnerError):
            return error
        logger.warning("plugin %r raised %s", self._name, _describe(error), exc_info=error)
        return RunnerError(f"plugin {self._name!r} raised {_describe(error)}")


class _ConstructionError(Exception):
    """Carries an error of a plugin's constructor out of a combined create-and-run call."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


async def _construct(runner_class: Callable[[], object]) -> object:
    return runner_class()


async def _pump_async(
    stream: AsyncIterator[Any],
    chunks: asyncio.Queue[tuple[str, Any]],
    loop: asyncio.AbstractEventLoop,
) -> None:
    """Move chunks from a plugin's async generator (on its loop) to the job's queue."""

    async def send(kind: str, value: Any) -> None:
        # Waits while the queue is full, so a fast plugin cannot run far ahead.
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(chunks.put((kind, value)), loop))

    try:
        async for chunk in stream:
            await send("chunk", chunk)
    except asyncio.CancelledError:
        raise
    except Exception as error:
        await send("error", error)
        return
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
    await send("end", None)


def _pump_sync(
    method: Callable[..., Any],
    args: bytes,
    metadata: dict[str, str],
    chunks: asyncio.Queue[tuple[str, Any]],
    loop: asyncio.AbstractEventLoop,
    stop: threading.Event,
) -> None:
    """Move chunks from a plugin's generator (in a thread) to the job's queue."""

    def send(kind: str, value: Any) -> None:
        asyncio.run_coroutine_threadsafe(chunks.put((kind, value)), loop).result()

    try:
        generator = method(args, metadata)
        for chunk in generator:
            if stop.is_set():
                generator.close()
                return
            send("chunk", chunk)
    except Exception as error:
        with contextlib.suppress(RuntimeError, concurrent.futures.CancelledError):
            send("error", error)
        return
    with contextlib.suppress(RuntimeError, concurrent.futures.CancelledError):
        send("end", None)


def _start_thread(target: Callable[[], None], name: str) -> concurrent.futures.Future[None]:
    """Run `target` in a new daemon thread; the future completes when it returns."""
    future: concurrent.futures.Future[None] = concurrent.futures.Future()

    def run() -> None:
        try:
            target()
        except BaseException as error:
            with contextlib.suppress(concurrent.futures.InvalidStateError):
                future.set_exception(error)
            return
        with contextlib.suppress(concurrent.futures.InvalidStateError):
            future.set_result(None)

    threading.Thread(target=run, name=name, daemon=True).start()
    return future


async def _call_in_thread(function: Callable[..., T], *args: Any, thread_name: str) -> T:
    """Call a plugin's plain function in a new thread and wait for it.

    A new thread per call, not a shared pool: a call abandoned at its job's
    timeout keeps its thread until it returns, and in a pool it would take
    a worker from every later call. NOTE: Python cannot stop a thread, so
    an abandoned call runs to its end and its result is dropped.
    """
    result: list[T] = []
    future = _start_thread(lambda: _store(function, args, result), thread_name)
    await asyncio.wrap_future(future)
    return result[0]


def _store(function: Callable[..., T], args: tuple[Any, ...], result: list[T]) -> None:
    result.append(function(*args))


def _as_bytes(value: object, plugin_name: str) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise RunnerError(
        f"plugin {plugin_name!r} returned a {type(value).__name__}, not bytes; return the "
        "encoded result message"
    )


def _describe(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
