"""`jwp serve` as a real process: start-up, settings errors, graceful shutdown, restart."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc
import pytest

from jwp.proto.jobworkerp.data import common_pb2, runner_pb2, worker_pb2
from jwp.proto.jobworkerp.runner import command_args_pb2
from jwp.proto.jobworkerp.service import common_pb2 as service_common_pb2
from jwp.proto.jobworkerp.service import job_pb2 as job_service_pb2
from jwp.proto.jobworkerp.service import job_pb2_grpc
from jwp.proto.jobworkerp.service import job_result_pb2 as result_service_pb2
from tests.conftest import Stubs
from tests.support.backends import MYSQL_URL, REDIS_URL, require_services, unique_name
from tests.support.servers import ServerProcess
from tests.support.waiting import eventually


def clean_env() -> dict[str, str]:
    """Environment without any jwp setting, as on a fresh machine."""
    prefixes = ("STORAGE_", "SQLITE_", "JOB_QUEUE_", "WORKER_", "GRPC_", "LOG_", "JWP_")
    return {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}


def _exists(path: Path) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await asyncio.to_thread(path.exists)

    return check


def command_args(command: str, *args: str) -> bytes:
    return command_args_pb2.CommandArgs(command=command, args=list(args)).SerializeToString()


async def connect(process: ServerProcess) -> Stubs:
    channel = grpc.aio.insecure_channel(process.address)
    await asyncio.wait_for(channel.channel_ready(), 10)
    return Stubs.over(channel)


def test_serve_starts_without_env_file(tmp_path: Path) -> None:
    process = ServerProcess(tmp_path, {"GRPC_ADDR": "127.0.0.1:0"})
    process.start()
    try:
        text = process.text()
        assert "storage Standalone (sqlite:jobworkerp.sqlite3)" in text
        assert "channels __default_job_channel__=4" in text
        assert (tmp_path / "jobworkerp.sqlite3").exists()
    finally:
        assert process.stop() == 0
    assert "jwp stopped after" in process.text()


def test_serve_rejects_invalid_settings(tmp_path: Path) -> None:
    env = {**clean_env(), "WORKER_CHANNELS": "a,b", "WORKER_CHANNEL_CONCURRENCIES": "1"}
    completed = subprocess.run(
        [sys.executable, "-m", "jwp", "serve"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2
    assert "WORKER_CHANNELS names 2 channels" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_serve_reports_taken_port(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**clean_env(), "GRPC_ADDR": f"127.0.0.1:{port}"}
        completed = subprocess.run(
            [sys.executable, "-m", "jwp", "serve"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert completed.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in completed.stderr
    assert "Traceback" not in completed.stderr


def _serve_exits(tmp_path: Path, settings: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {**clean_env(), "GRPC_ADDR": "127.0.0.1:0", **settings}
    return subprocess.run(
        [sys.executable, "-m", "jwp", "serve"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serve_reports_unopenable_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'missing-folder' / 'jobs.sqlite3'}"

    completed = _serve_exits(tmp_path, {"SQLITE_URL": url})

    assert completed.returncode == 1
    path = tmp_path / "missing-folder" / "jobs.sqlite3"
    assert f"error: cannot open the SQLite database {path}: unable to open" in completed.stderr
    assert "check SQLITE_URL" in completed.stderr
    assert "bug in jwp" not in completed.stderr


def test_serve_reports_missing_mysql_database(tmp_path: Path) -> None:
    require_services()
    name = unique_name()
    settings = {
        "STORAGE_TYPE": "Scalable",
        "REDIS_URL": REDIS_URL,
        "JWP_REDIS_KEY_PREFIX": f"{name}:",
        "MYSQL_URL": f"{MYSQL_URL.rstrip('/')}/{name}",
    }

    completed = _serve_exits(tmp_path, settings)

    assert completed.returncode == 1
    assert f"error: cannot open the MySQL/MariaDB database '{name}' on " in completed.stderr
    assert f"error 1049: Unknown database '{name}'" in completed.stderr
    assert "create the database if it is missing" in completed.stderr
    assert "bug in jwp" not in completed.stderr
    assert "Traceback" not in completed.stderr


async def test_sigterm_lets_running_job_finish(tmp_path: Path) -> None:
    process = ServerProcess(tmp_path, {"JWP_SHUTDOWN_GRACE_MS": "20000"})
    process.start()
    try:
        stubs = await connect(process)
        await stubs.workers.Create(
            worker_pb2.WorkerData(
                name="slow",
                runner_id=runner_pb2.RunnerId(value=1),
                store_success=True,
                broadcast_results=True,
            )
        )
        marker = tmp_path / "started"
        response = await stubs.jobs.Enqueue(
            job_service_pb2.JobRequest(
                worker_name="slow",
                args=command_args("sh", "-c", f"touch {marker}; sleep 1; echo done"),
            )
        )
        await eventually(_exists(marker), message="marker file written")
        await stubs.channel.close()

        process.signal(signal.SIGTERM)
        assert await asyncio.to_thread(process.wait) == 0
    finally:
        process.kill()
    assert f"job {response.id.value} finished: SUCCESS" in process.text()

    restarted = ServerProcess(tmp_path, {})
    restarted.start()
    try:
        stubs = await connect(restarted)
        results = [
            result
            async for result in stubs.results.FindListByJobId(
                result_service_pb2.FindListByJobIdRequest(job_id=response.id)
            )
        ]
        assert [result.data.status for result in results] == [common_pb2.SUCCESS]
        await stubs.channel.close()
    finally:
        restarted.stop()


async def test_queued_jobs_survive_graceful_restart(tmp_path: Path) -> None:
    env = {"WORKER_DEFAULT_CONCURRENCY": "1", "JWP_SHUTDOWN_GRACE_MS": "0"}
    process = ServerProcess(tmp_path, env)
    process.start()
    try:
        stubs = await connect(process)
        await stubs.workers.Create(
            worker_pb2.WorkerData(
                name="q", runner_id=runner_pb2.RunnerId(value=1), store_success=True
            )
        )
        blocker = tmp_path / "blocker-started"
        await stubs.jobs.Enqueue(
            job_service_pb2.JobRequest(
                worker_name="q", args=command_args("sh", "-c", f"touch {blocker}; sleep 30")
            )
        )
        waiting = [
            (
                await stubs.jobs.Enqueue(
                    job_service_pb2.JobRequest(worker_name="q", args=command_args("echo", str(i)))
                )
            ).id.value
            for i in range(3)
        ]
        await eventually(_exists(blocker), message="blocker file written")
        await stubs.channel.close()
        process.signal(signal.SIGTERM)
        assert await asyncio.to_thread(process.wait) == 0
    finally:
        process.kill()
    assert "1 put back, 4 queued job(s) kept in the RDB" in process.text()

    restarted = ServerProcess(tmp_path, {"WORKER_DEFAULT_CONCURRENCY": "4"})
    restarted.start()
    try:
        stubs = await connect(restarted)

        async def three_results() -> bool:
            count = await stubs.results.Count(service_common_pb2.CountCondition())
            return count.total >= 3

        await eventually(three_results, timeout_s=20, message="3 stored results")
        stored = {
            result.data.job_id.value
            async for result in stubs.results.FindList(service_common_pb2.FindListRequest())
        }
        assert set(waiting) <= stored
        await stubs.channel.close()
    finally:
        restarted.kill()


async def _pending_jobs_survive_sigkill(
    tmp_path: Path, queue_type: int, env: dict[str, str], *, restore_rpc: bool = False
) -> None:
    process = ServerProcess(tmp_path, {"WORKER_DEFAULT_CONCURRENCY": "1", **env})
    process.start()
    try:
        stubs = await connect(process)
        await stubs.workers.Create(
            worker_pb2.WorkerData(
                name="kept",
                runner_id=runner_pb2.RunnerId(value=1),
                store_success=True,
                queue_type=queue_type,  # type: ignore[arg-type]
            )
        )
        blocker = tmp_path / "blocker-started"
        await stubs.jobs.Enqueue(
            job_service_pb2.JobRequest(
                worker_name="kept", args=command_args("sh", "-c", f"touch {blocker}; sleep 30")
            )
        )
        pending = (
            await stubs.jobs.Enqueue(
                job_service_pb2.JobRequest(worker_name="kept", args=command_args("echo", "kept"))
            )
        ).id
        await eventually(_exists(blocker), message="blocker started")
        await stubs.channel.close()
    finally:
        process.kill()

    restarted = ServerProcess(tmp_path, env)
    restarted.start()
    try:
        stubs = await connect(restarted)
        if restore_rpc:
            restore = job_pb2_grpc.JobRestoreServiceStub(stubs.channel)
            candidates = [
                job.id.value async for job in restore.FindAll(job_service_pb2.JobRestoreRequest())
            ]
            assert pending.value in candidates
            assert (await restore.Restore(job_service_pb2.JobRestoreRequest())).is_success

        async def result_stored() -> bool:
            results = [
                result
                async for result in stubs.results.FindListByJobId(
                    result_service_pb2.FindListByJobIdRequest(job_id=pending)
                )
            ]
            return any(result.data.status == common_pb2.SUCCESS for result in results)

        await eventually(result_stored, timeout_s=20, message="result of the pending job")
        await stubs.channel.close()
    finally:
        restarted.kill()


async def test_forced_rdb_job_survives_sigkill(tmp_path: Path) -> None:
    await _pending_jobs_survive_sigkill(tmp_path, common_pb2.FORCED_RDB, {})


async def test_with_backup_job_survives_sigkill(tmp_path: Path) -> None:
    await _pending_jobs_survive_sigkill(
        tmp_path, common_pb2.WITH_BACKUP, {"STORAGE_RESTORE_AT_STARTUP": "true"}
    )


async def test_with_backup_job_restored_on_request(tmp_path: Path) -> None:
    await _pending_jobs_survive_sigkill(tmp_path, common_pb2.WITH_BACKUP, {}, restore_rpc=True)


async def test_retry_interrupted_by_shutdown_is_not_counted(tmp_path: Path) -> None:
    env = {"JWP_SHUTDOWN_GRACE_MS": "0"}
    process = ServerProcess(tmp_path, env)
    process.start()
    try:
        stubs = await connect(process)
        await stubs.workers.Create(
            worker_pb2.WorkerData(
                name="retrying",
                runner_id=runner_pb2.RunnerId(value=1),
                store_success=True,
                store_failure=True,
                retry_policy=common_pb2.RetryPolicy(
                    type=common_pb2.RetryType.CONSTANT, interval=100, max_retry=1, basis=1.0
                ),
            )
        )
        started = tmp_path / "started"
        script = f"if [ -e {started} ]; then echo second; else touch {started}; sleep 30; fi"
        job_id = (
            await stubs.jobs.Enqueue(
                job_service_pb2.JobRequest(
                    worker_name="retrying", args=command_args("sh", "-c", script)
                )
            )
        ).id
        await eventually(_exists(started), message="first attempt started")
        await stubs.channel.close()
        process.signal(signal.SIGTERM)
        assert await asyncio.to_thread(process.wait) == 0
    finally:
        process.kill()
    assert f"job {job_id.value} put back (server shutdown)" in process.text()

    restarted = ServerProcess(tmp_path, {})
    restarted.start()
    try:
        stubs = await connect(restarted)

        async def final_result() -> list[object]:
            return [
                result
                async for result in stubs.results.FindListByJobId(
                    result_service_pb2.FindListByJobIdRequest(job_id=job_id)
                )
            ]

        results = await eventually(final_result, timeout_s=20, message="result after restart")
        assert len(results) == 1
        assert results[0].data.status == common_pb2.SUCCESS  # type: ignore[attr-defined]
        assert results[0].data.retried == 0  # type: ignore[attr-defined]
        await stubs.channel.close()
    finally:
        restarted.kill()


def test_second_server_on_same_port_fails(tmp_path: Path) -> None:
    (tmp_path / "first").mkdir()
    first = ServerProcess(tmp_path / "first", {})
    first.start()
    try:
        env = {**clean_env(), "GRPC_ADDR": f"127.0.0.1:{first.port}"}
        (tmp_path / "second").mkdir()
        completed = subprocess.run(
            [sys.executable, "-m", "jwp", "serve"],
            cwd=tmp_path / "second",
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        first.stop()
    assert completed.returncode == 1
    assert f"cannot listen on 127.0.0.1:{first.port}" in completed.stderr


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("127.0.0.1:99999", "GRPC_ADDR '127.0.0.1:99999' has port 99999; the port must be 0-65535"),
        ("http://127.0.0.1:9000", "has a scheme; a listen address is host:port without http://"),
        ("127.0.0.1", "GRPC_ADDR '127.0.0.1' is not a listen address; write host:port"),
    ],
)
def test_serve_rejects_bad_listen_address(tmp_path: Path, address: str, message: str) -> None:
    env = {**clean_env(), "GRPC_ADDR": address}
    completed = subprocess.run(
        [sys.executable, "-m", "jwp", "serve"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2
    assert message in completed.stderr
    assert "add_port" not in completed.stderr


async def test_direct_caller_told_when_server_stops(tmp_path: Path) -> None:
    process = ServerProcess(tmp_path, {"JWP_SHUTDOWN_GRACE_MS": "0"})
    process.start()
    try:
        stubs = await connect(process)
        await stubs.workers.Create(
            worker_pb2.WorkerData(
                name="direct",
                runner_id=runner_pb2.RunnerId(value=1),
                response_type=common_pb2.DIRECT,
            )
        )
        started = tmp_path / "started"
        call = stubs.jobs.Enqueue(
            job_service_pb2.JobRequest(
                worker_name="direct", args=command_args("sh", "-c", f"touch {started}; sleep 30")
            )
        )
        await eventually(_exists(started), message="DIRECT job started")
        process.signal(signal.SIGTERM)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        await stubs.channel.close()
        assert await asyncio.to_thread(process.wait) == 0
    finally:
        process.kill()
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "stopped before job" in (caught.value.details() or "")
    assert "stopped by the server shutdown" in process.text()
    assert "it will run again" not in process.text()


async def test_unrestored_backup_jobs_logged_at_start(tmp_path: Path) -> None:
    await _pending_jobs_survive_sigkill_without_restart(tmp_path)
    restarted = ServerProcess(tmp_path, {})
    restarted.start()
    try:
        stubs = await connect(restarted)
        jobs = [job async for job in stubs.jobs.FindList(service_common_pb2.FindListRequest())]
        statuses = [(await stubs.statuses.Find(job.id)).status for job in jobs]
        await stubs.channel.close()
    finally:
        restarted.stop()
    assert "WITH_BACKUP job(s) wait in the RDB but in no queue" in restarted.text()
    assert jobs
    assert statuses == [common_pb2.PENDING] * len(jobs)


async def _pending_jobs_survive_sigkill_without_restart(tmp_path: Path) -> None:
    process = ServerProcess(tmp_path, {"WORKER_DEFAULT_CONCURRENCY": "1"})
    process.start()
    try:
        stubs = await connect(process)
        await stubs.workers.Create(
            worker_pb2.WorkerData(
                name="kept",
                runner_id=runner_pb2.RunnerId(value=1),
                queue_type=common_pb2.WITH_BACKUP,
            )
        )
        blocker = tmp_path / "blocker-started"
        await stubs.jobs.Enqueue(
            job_service_pb2.JobRequest(
                worker_name="kept", args=command_args("sh", "-c", f"touch {blocker}; sleep 30")
            )
        )
        await stubs.jobs.Enqueue(
            job_service_pb2.JobRequest(worker_name="kept", args=command_args("true"))
        )
        await eventually(_exists(blocker), message="blocker started")
        await stubs.channel.close()
    finally:
        process.kill()


async def test_serve_runs_jobs_on_uvloop(tmp_path: Path) -> None:
    pytest.importorskip("uvloop")
    process = ServerProcess(tmp_path, {**clean_env(), "JWP_UVLOOP": "true"})
    await asyncio.to_thread(process.start)
    try:
        stubs = await connect(process)
        await stubs.workers.Create(
            worker_pb2.WorkerData(
                name="echo",
                runner_id=runner_pb2.RunnerId(value=common_pb2.RunnerType.COMMAND),
                response_type=common_pb2.DIRECT,
            )
        )
        response = await stubs.jobs.Enqueue(
            job_service_pb2.JobRequest(worker_name="echo", args=command_args("echo", "uv"))
        )
        await stubs.channel.close()
    finally:
        code = await asyncio.to_thread(process.stop)

    assert "event loop: uvloop" in process.text()
    assert response.result.data.status == common_pb2.SUCCESS
    assert code == 0
