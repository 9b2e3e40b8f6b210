"""Loading plugins: discovery in folders, definition checks, and the runner adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from jwp.errors import FatalRunnerError, RunnerError
from jwp.proto.jobworkerp.data import runner_pb2
from jwp.server.runners.plugins import (
    PluginError,
    PluginHost,
    find_plugin_paths,
    load_plugin,
    plugin_runner_spec,
)

REPOSITORY = Path(__file__).resolve().parents[3]
TEST_PLUGINS = Path(__file__).resolve().parent / "plugin_samples"


def write_plugin(folder: Path, name: str, body: str) -> Path:
    path = folder / f"{name}.py"
    path.write_text("from jwp.server.runners.plugins import PluginDefinition\n" + body)
    return path


@pytest.fixture
async def host() -> AsyncIterator[PluginHost]:
    plugin_host = PluginHost("test")
    try:
        yield plugin_host
    finally:
        await plugin_host.close()


def test_discovery_finds_modules_and_packages(tmp_path: Path) -> None:
    (tmp_path / "module_plugin.py").write_text("")
    (tmp_path / "package_plugin").mkdir()
    (tmp_path / "package_plugin" / "__init__.py").write_text("")
    (tmp_path / "not_a_package").mkdir()
    (tmp_path / "_private.py").write_text("")
    (tmp_path / "notes.txt").write_text("")

    found = find_plugin_paths([tmp_path, tmp_path / "absent"])

    assert [path.name for path in found] == ["module_plugin.py", "package_plugin"]


async def test_sample_package_loads() -> None:
    plugin = await load_plugin(str(REPOSITORY / "plugins" / "hello_runner"))

    assert plugin.definition.name == "HelloPlugin"
    assert plugin.output_type == runner_pb2.BOTH
    assert plugin.source.endswith("hello_runner")


async def test_factory_definition_loads() -> None:
    plugin = await load_plugin(str(TEST_PLUGINS / "plain.py"))

    assert plugin.definition.name == "PlainPlugin"
    assert plugin.output_type == runner_pb2.BOTH
    assert plugin.definition.result_proto is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("x = 1\n", "has no `jwp_runner`"),
        ("jwp_runner = 42\n", "not a plugin definition"),
        (
            "class R:\n    async def run(self, a, m): return a\n"
            "jwp_runner = PluginDefinition(name='', description='', runner_class=R)\n",
            "`name` must be a non-empty string",
        ),
        (
            "class R:\n    async def run(self, a, m): return a\n"
            "jwp_runner = PluginDefinition(name='P', description='', runner_class=R,\n"
            "                              output_type='SOMETIMES')\n",
            "output_type 'SOMETIMES' is not one of",
        ),
        (
            "class R:\n    async def run(self, a, m): return a\n"
            "jwp_runner = PluginDefinition(name='P', description='', runner_class=R,\n"
            "                              output_type='STREAMING')\n",
            "needs a run_stream method",
        ),
        (
            "class R:\n    async def run(self, a, m): return a\n"
            "jwp_runner = PluginDefinition(name='P', description='', runner_class=R,\n"
            "                              args_proto='message {')\n",
            "`args_proto`",
        ),
        ("def jwp_runner():\n    raise RuntimeError('no config')\n", "RuntimeError: no config"),
        ("import missing_module_for_jwp_test\n", "ModuleNotFoundError"),
    ],
)
async def test_invalid_plugins_rejected(tmp_path: Path, body: str, message: str) -> None:
    path = write_plugin(tmp_path, "candidate", body)

    with pytest.raises(PluginError, match=message):
        await load_plugin(str(path))


async def test_missing_path_rejected(tmp_path: Path) -> None:
    with pytest.raises(PluginError, match="does not exist"):
        await load_plugin(str(tmp_path / "absent.py"))


async def test_runner_maps_exceptions(tmp_path: Path, host: PluginHost) -> None:
    path = write_plugin(
        tmp_path,
        "faulty",
        "from jwp.errors import RetryableRunnerError\n"
        "class Faulty:\n"
        "    async def run(self, args, metadata):\n"
        "        if args == b'retry':\n"
        "            raise RetryableRunnerError('try later')\n"
        "        if args == b'text':\n"
        "            return 'not bytes'\n"
        "        raise KeyError('missing')\n"
        "jwp_runner = PluginDefinition(name='Faulty', description='', runner_class=Faulty)\n",
    )
    spec = plugin_runner_spec(70_000, "Faulty", "", await load_plugin(str(path)), host)
    runner = spec.factory()
    await runner.load(b"")

    with pytest.raises(RunnerError, match="raised KeyError: 'missing'") as caught:
        await runner.run(b"other", {})
    assert type(caught.value) is RunnerError
    with pytest.raises(RunnerError, match="try later") as retry:
        await runner.run(b"retry", {})
    assert type(retry.value).__name__ == "RetryableRunnerError"
    with pytest.raises(RunnerError, match="returned a str, not bytes"):
        await runner.run(b"text", {})
    await runner.close()


async def test_load_failure_is_fatal(tmp_path: Path, host: PluginHost) -> None:
    path = write_plugin(
        tmp_path,
        "unloadable",
        "class Unloadable:\n"
        "    def load(self, settings):\n"
        "        raise ValueError('bad settings ' + settings.decode())\n"
        "    def run(self, args, metadata):\n"
        "        return args\n"
        "jwp_runner = PluginDefinition(name='U', description='', runner_class=Unloadable)\n",
    )
    spec = plugin_runner_spec(70_001, "U", "", await load_plugin(str(path)), host)

    with pytest.raises(FatalRunnerError, match="failed to load: ValueError: bad settings xyz"):
        await spec.factory().load(b"xyz")


async def test_spec_describes_plugin(host: PluginHost) -> None:
    plugin = await load_plugin(str(REPOSITORY / "plugins" / "hello_runner"))

    spec = plugin_runner_spec(70_002, "Greeter", "", plugin, host)

    assert spec.name == "Greeter"
    assert spec.description == plugin.definition.description
    assert spec.definition == plugin.source
    assert spec.streams
    assert "message HelloArgs" in spec.args_proto


async def test_constructor_error_fails_run_fatally(host: PluginHost, tmp_path: Path) -> None:
    path = write_plugin(
        tmp_path,
        "broken_init",
        "class BrokenInit:\n"
        "    def __init__(self):\n"
        "        raise ValueError('no config')\n"
        "    async def run(self, args, metadata):\n"
        "        return args\n"
        "jwp_runner = PluginDefinition(name='B', description='', runner_class=BrokenInit)\n",
    )
    spec = plugin_runner_spec(70_003, "B", "", await load_plugin(str(path)), host)
    runner = spec.factory()
    await runner.load(b"")

    with pytest.raises(FatalRunnerError, match="failed to load: ValueError: no config"):
        await runner.run(b"x", {})
    await runner.close()


async def test_instance_created_on_run_is_reused(host: PluginHost, tmp_path: Path) -> None:
    path = write_plugin(
        tmp_path,
        "counting",
        "class Counting:\n"
        "    created = 0\n"
        "    def __init__(self):\n"
        "        Counting.created += 1\n"
        "        self.calls = 0\n"
        "    async def run(self, args, metadata):\n"
        "        self.calls += 1\n"
        "        return f'{Counting.created}:{self.calls}'.encode()\n"
        "jwp_runner = PluginDefinition(name='C', description='', runner_class=Counting)\n",
    )
    spec = plugin_runner_spec(70_004, "C", "", await load_plugin(str(path)), host)
    runner = spec.factory()
    await runner.load(b"")

    assert await runner.run(b"", {}) == b"1:1"
    assert await runner.run(b"", {}) == b"1:2"
    await runner.close()
