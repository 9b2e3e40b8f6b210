"""Plugin runners end to end: the sample plugin, failures, timeouts and a blocking plugin."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from jwp import schema
from jwp.proto.jobworkerp.data import common_pb2, runner_pb2, worker_pb2
from jwp.proto.jobworkerp.runner import command_args_pb2, command_result_pb2
from jwp.proto.jobworkerp.service import job_pb2 as job_service_pb2
from jwp.proto.jobworkerp.service import runner_pb2 as runner_service_pb2
from jwp.server.app import JwpServer
from tests.conftest import Stubs
from tests.support.servers import make_settings, running_server, wait_channel_ready
from tests.support.waiting import eventually

REPOSITORY = Path(__file__).resolve().parents[3]
SAMPLE_PLUGINS = REPOSITORY / "plugins"
TEST_PLUGINS = Path(__file__).resolve().parent / "plugin_samples"
BROKEN_PLUGINS = Path(__file__).resolve().parent / "plugin_samples_broken"


@pytest.fixture
async def plugin_stubs(tmp_path: Path) -> AsyncIterator[Stubs]:
    """A server that loads the sample plugin and the test plugins."""
    settings = make_settings(
        tmp_path, plugins_runner_dir=[SAMPLE_PLUGINS, TEST_PLUGINS], mcp_config=tmp_path / "none"
    )
    async with running_server(settings) as server:
        channel = await wait_channel_ready(f"127.0.0.1:{server.port}")
        try:
            yield Stubs.over(channel)
        finally:
            await channel.close()


async def find_runner(stubs: Stubs, name: str) -> runner_pb2.Runner:
    response = await stubs.runners.FindByName(runner_service_pb2.RunnerNameRequest(name=name))
    assert response.HasField("data"), f"runner {name} not loaded"
    return response.data


async def create_worker(
    stubs: Stubs, name: str, runner: str, settings: bytes = b"", **fields: object
) -> None:
    runner_id = (await find_runner(stubs, runner)).id
    values: dict[str, object] = {
        "name": name,
        "runner_id": runner_id,
        "runner_settings": settings,
        "response_type": common_pb2.DIRECT,
        "store_failure": True,
    }
    values.update(fields)
    await stubs.workers.Create(worker_pb2.WorkerData(**values))  # type: ignore[arg-type]


async def enqueue(stubs: Stubs, worker: str, args: bytes, **fields: object) -> object:
    request = job_service_pb2.JobRequest(worker_name=worker, args=args, **fields)  # type: ignore[arg-type]
    return await stubs.jobs.Enqueue(request)


def hello_messages(runner: runner_pb2.Runner) -> tuple[type, type, type]:
    data = runner.data
    settings = schema.compile_first_message(data.runner_settings_proto)
    args = schema.compile_first_message(data.job_args_proto)
    result = schema.compile_first_message(data.result_output_proto)
    assert settings and args and result
    return settings, args, result


async def test_sample_plugin_listed_with_schemas(plugin_stubs: Stubs) -> None:
    runner = await find_runner(plugin_stubs, "HelloPlugin")

    assert runner.data.runner_type == common_pb2.RunnerType.PLUGIN
    assert runner.id.value > 65535
    assert runner.data.output_type == runner_pb2.BOTH
    assert "message HelloRunnerSettings" in runner.data.runner_settings_proto
    assert "message HelloArgs" in runner.data.job_args_proto
    assert "message HelloRunnerResult" in runner.data.result_output_proto
    assert runner.data.definition == str(SAMPLE_PLUGINS / "hello_runner")


async def test_sample_plugin_runs(plugin_stubs: Stubs) -> None:
    runner = await find_runner(plugin_stubs, "HelloPlugin")
    settings, args, result = hello_messages(runner)
    await create_worker(
        plugin_stubs, "hello", "HelloPlugin", settings(name="tester").SerializeToString()
    )

    response = await enqueue(plugin_stubs, "hello", args(arg="world").SerializeToString())

    job_result = response.result  # type: ignore[attr-defined]
    assert job_result.data.status == common_pb2.SUCCESS
    assert result.FromString(job_result.data.output.items).data == "Hello, world! (tester)"


async def test_sample_plugin_streams_characters(plugin_stubs: Stubs) -> None:
    runner = await find_runner(plugin_stubs, "HelloPlugin")
    _, args, result = hello_messages(runner)
    await create_worker(plugin_stubs, "hello-stream", "HelloPlugin")

    call = plugin_stubs.jobs.EnqueueForStream(
        job_service_pb2.JobRequest(
            worker_name="hello-stream", args=args(arg="ab").SerializeToString()
        )
    )
    items = [item async for item in call]

    characters = [result.FromString(item.data).data for item in items if item.HasField("data")]
    assert "".join(characters) == "Hello, ab! (jwp)"
    assert all(len(character) == 1 for character in characters)
    assert items[-1].HasField("end")


async def test_sample_plugin_rejects_empty_arg(plugin_stubs: Stubs) -> None:
    await create_worker(plugin_stubs, "hello-empty", "HelloPlugin")

    response = await enqueue(plugin_stubs, "hello-empty", b"")

    job_result = response.result  # type: ignore[attr-defined]
    assert job_result.data.status == common_pb2.OTHER_ERROR
    assert b"HelloArgs.arg is empty" in job_result.data.output.items


async def test_raising_plugin_fails_job(plugin_stubs: Stubs) -> None:
    await create_worker(plugin_stubs, "raising", "RaisingPlugin")

    response = await enqueue(plugin_stubs, "raising", b"input")

    job_result = response.result  # type: ignore[attr-defined]
    assert job_result.data.status == common_pb2.OTHER_ERROR
    output = job_result.data.output.items.decode()
    assert "ValueError: the plugin broke on purpose with 'input'" in output
    # The server keeps working after the failure.
    again = await enqueue(plugin_stubs, "raising", b"again")
    assert again.result.data.status == common_pb2.OTHER_ERROR  # type: ignore[attr-defined]


async def test_hanging_async_plugin_cancelled(plugin_stubs: Stubs, tmp_path: Path) -> None:
    await create_worker(plugin_stubs, "forever", "ForeverPlugin")

    started = time.monotonic()
    response = await enqueue(plugin_stubs, "forever", str(tmp_path).encode(), timeout=500)
    elapsed_s = time.monotonic() - started

    job_result = response.result  # type: ignore[attr-defined]
    assert job_result.data.status == common_pb2.MAX_RETRY
    assert b"timed out after 500 ms" in job_result.data.output.items
    assert elapsed_s < 5
    assert (tmp_path / "started").exists()

    async def cancelled() -> bool:
        return (tmp_path / "cancelled").exists()

    await eventually(cancelled, message="plugin saw CancelledError")


async def test_hanging_sync_plugin_abandoned(plugin_stubs: Stubs, tmp_path: Path) -> None:
    await create_worker(plugin_stubs, "plain-wait", "PlainPlugin")

    response = await enqueue(plugin_stubs, "plain-wait", f"wait:{tmp_path}".encode(), timeout=500)

    job_result = response.result  # type: ignore[attr-defined]
    assert job_result.data.status == common_pb2.MAX_RETRY
    assert b"timed out" in job_result.data.output.items
    assert (tmp_path / "started").exists()
    # The abandoned thread still runs; released, it finishes on its own.
    assert not (tmp_path / "finished").exists()
    (tmp_path / "release").touch()

    async def finished() -> bool:
        return (tmp_path / "finished").exists()

    await eventually(finished, message="abandoned plugin thread finished")


async def test_sync_plugin_runs_and_streams(plugin_stubs: Stubs) -> None:
    await create_worker(plugin_stubs, "plain", "PlainPlugin", b"settings:")

    response = await enqueue(plugin_stubs, "plain", b"abc")
    assert response.result.data.output.items == b"settings:ABC"  # type: ignore[attr-defined]

    call = plugin_stubs.jobs.EnqueueForStream(
        job_service_pb2.JobRequest(worker_name="plain", args=b"xyz")
    )
    items = [item async for item in call]
    assert [item.data for item in items[:-1]] == [b"X", b"Y", b"Z"]
    assert items[-1].HasField("end")


async def test_blocking_plugin_does_not_block_server(plugin_stubs: Stubs, tmp_path: Path) -> None:
    await create_worker(plugin_stubs, "blocking", "BlockingPlugin")
    await plugin_stubs.workers.Create(
        worker_pb2.WorkerData(
            name="echo",
            runner_id=runner_pb2.RunnerId(value=1),
            response_type=common_pb2.DIRECT,
        )
    )
    blocked = asyncio.create_task(enqueue(plugin_stubs, "blocking", str(tmp_path).encode()))

    async def started() -> bool:
        return (tmp_path / "started").exists()

    await eventually(started, message="blocking plugin started")
    echo_args = command_args_pb2.CommandArgs(command="echo", args=["still running"])
    latencies_ms = []
    for _ in range(3):
        began = time.monotonic()
        response = await asyncio.wait_for(
            enqueue(plugin_stubs, "echo", echo_args.SerializeToString()), timeout=10
        )
        latencies_ms.append((time.monotonic() - began) * 1000)
        output = response.result.data.output.items  # type: ignore[attr-defined]
        assert command_result_pb2.CommandResult.FromString(output).stdout == "still running"
    assert not blocked.done()
    # An echo job takes a few tens of ms here; a blocked server loop would
    # hold it until the release below.
    assert max(latencies_ms) < 2000, latencies_ms
    logging.getLogger(__name__).info("echo latency while a plugin blocks: %s ms", latencies_ms)

    (tmp_path / "release").touch()
    response = await asyncio.wait_for(blocked, timeout=10)
    assert response.result.data.output.items == b"released"  # type: ignore[attr-defined]


async def test_failed_import_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="jwp.server.runners.external")
    settings = make_settings(tmp_path, plugins_runner_dir=[BROKEN_PLUGINS])
    async with running_server(settings) as server:
        registry = server.components.runners  # type: ignore[union-attr]
        assert registry.find_by_name("FinePlugin") is not None
        names = [spec.name for spec in registry.all()]
    assert "broken_import" not in " ".join(names)
    assert "this plugin cannot be imported on purpose" in caplog.text
    assert "broken_import.py" in caplog.text


async def test_missing_plugin_folder_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="jwp.server.runners.plugins")
    settings = make_settings(tmp_path, plugins_runner_dir=[tmp_path / "absent"])
    async with running_server(settings) as server:
        assert server.components is not None
    assert "absent does not exist" in caplog.text


async def test_entry_point_plugin_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    (site / "ep_plugin_pkg").mkdir(parents=True)
    (site / "ep_plugin_pkg" / "__init__.py").write_text(
        "from jwp.server.runners.plugins import PluginDefinition\n"
        "class Upper:\n"
        "    def run(self, args, metadata):\n"
        "        return args.upper()\n"
        "jwp_runner = PluginDefinition(name='EntryPointPlugin', description='upper',\n"
        "                              runner_class=Upper)\n"
    )
    dist_info = site / "ep_plugin_pkg-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: ep-plugin-pkg\nVersion: 1.0\n"
    )
    (dist_info / "entry_points.txt").write_text("[jwp.runners]\nupper = ep_plugin_pkg\n")
    monkeypatch.syspath_prepend(str(site))

    async with running_server(make_settings(tmp_path)) as server:
        channel = await wait_channel_ready(f"127.0.0.1:{server.port}")
        try:
            stubs = Stubs.over(channel)
            runner = await find_runner(stubs, "EntryPointPlugin")
            assert runner.data.definition == "entry-point:ep_plugin_pkg"
            await create_worker(stubs, "upper", "EntryPointPlugin")
            response = await enqueue(stubs, "upper", b"shout")
            assert response.result.data.output.items == b"SHOUT"  # type: ignore[attr-defined]
        finally:
            await channel.close()
    sys.modules.pop("ep_plugin_pkg", None)


async def test_create_plugin_runner(stubs: Stubs, server: JwpServer, tmp_path: Path) -> None:
    created = await stubs.runners.Create(
        runner_service_pb2.CreateRunnerRequest(
            name="Greeter",
            description="greets from Create",
            runner_type=common_pb2.RunnerType.PLUGIN,
            definition=str(SAMPLE_PLUGINS / "hello_runner"),
        )
    )

    runner = await find_runner(stubs, "Greeter")
    assert runner.id == created.id
    assert runner.data.description == "greets from Create"
    _, args, result = hello_messages(runner)
    await create_worker(stubs, "greeter", "Greeter")
    response = await enqueue(stubs, "greeter", args(arg="create").SerializeToString())
    output = response.result.data.output.items  # type: ignore[attr-defined]
    assert result.FromString(output).data == "Hello, create! (jwp)"


async def test_create_plugin_errors(stubs: Stubs, tmp_path: Path) -> None:
    def request(name: str, definition: str) -> runner_service_pb2.CreateRunnerRequest:
        return runner_service_pb2.CreateRunnerRequest(
            name=name, runner_type=common_pb2.RunnerType.PLUGIN, definition=definition
        )

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stubs.runners.Create(request("Missing", str(tmp_path / "nowhere.py")))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "does not exist" in (caught.value.details() or "")

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stubs.runners.Create(request("Broken", str(BROKEN_PLUGINS / "broken_import.py")))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "cannot be imported on purpose" in (caught.value.details() or "")

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stubs.runners.Create(request("COMMAND", str(TEST_PLUGINS / "raising.py")))
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stubs.runners.Create(request(" ", str(TEST_PLUGINS / "raising.py")))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_created_plugin_reloaded_after_restart(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    async with running_server(settings) as server:
        channel = await wait_channel_ready(f"127.0.0.1:{server.port}")
        try:
            created = await Stubs.over(channel).runners.Create(
                runner_service_pb2.CreateRunnerRequest(
                    name="Kept",
                    runner_type=common_pb2.RunnerType.PLUGIN,
                    definition=str(TEST_PLUGINS / "plain.py"),
                )
            )
        finally:
            await channel.close()

    async with running_server(settings) as server:
        registry = server.components.runners  # type: ignore[union-attr]
        reloaded = registry.find_by_name("Kept")
        assert reloaded is not None
        assert reloaded.id == created.id.value
        assert reloaded.definition == str(TEST_PLUGINS / "plain.py")
        instance = reloaded.factory()
        await instance.load(b"")
        assert await instance.run(b"again", {}) == b"AGAIN"
        await instance.close()
