"""Secrets stay out of logs and messages: the redaction helpers and a real server's log."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import grpc
import pytest
from pydantic import SecretStr

from jwp.proto.jobworkerp.data import common_pb2, runner_pb2, worker_pb2
from jwp.proto.jobworkerp.runner import http_request_args_pb2, http_request_runner_pb2
from jwp.proto.jobworkerp.service import common_pb2 as service_common_pb2
from jwp.proto.jobworkerp.service import job_pb2 as job_service_pb2
from jwp.proto.jobworkerp.service import job_result_pb2 as result_service_pb2
from jwp.redact import MASK, SecretFilter, redact_text, redact_url, secret_values, settings_summary
from tests.conftest import Stubs
from tests.support.servers import ServerProcess, make_settings


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://:pw@host:6379/0", "redis://:***@host:6379/0"),
        ("mysql+asyncmy://u:pw@h/db", "mysql+asyncmy://u:***@h/db"),
        ("https://u:p@example.test/x?token=abc&a=1", "https://u:***@example.test/x?token=***&a=1"),
        ("redis://host:6379", "redis://host:6379"),
        ("sqlite://jobs.sqlite3", "sqlite://jobs.sqlite3"),
    ],
)
def test_redact_url_masks_password(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_redact_text_masks_urls_inside() -> None:
    text = "cannot connect to redis://:hunter22@localhost:6379 or mysql://u:p4ss@db/jobs; retry"

    redacted = redact_text(text)

    assert "hunter22" not in redacted
    assert "p4ss" not in redacted
    assert "redis://:***@localhost:6379" in redacted


def test_settings_summary_masks_secrets(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        auth_token="token-value-1",
        openai_api_key="sk-value-2",
        otlp_addr="http://collector:pw-value-3@127.0.0.1:4317",
    )

    summary = settings_summary(settings)

    assert "AUTH_TOKEN=***" in summary
    assert "OPENAI_API_KEY=***" in summary
    for secret in ("token-value-1", "sk-value-2", "pw-value-3"):
        assert secret not in summary


def test_secret_values_lists_secrets(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, auth_token=SecretStr("token-value-1"))

    assert "token-value-1" in secret_values(settings)


def test_secret_filter_masks_records() -> None:
    record = logging.LogRecord(
        "jwp",
        logging.INFO,
        __file__,
        1,
        "calling %s with %s",
        ("redis://:pw1234@h", "abcd-secret"),
        None,
    )

    SecretFilter(["abcd-secret"]).filter(record)

    assert record.getMessage() == f"calling redis://:{MASK}@h with {MASK}"


async def test_server_log_has_no_secrets(tmp_path: Path) -> None:
    secrets = {
        "AUTH_TOKEN": "auth-token-7f3a9c",
        "OPENAI_API_KEY": "sk-openai-5b2e8d",
    }
    wrong_token = "guessed-token-41c0"
    url_password = "url-password-9d1f"
    env = {**secrets, "LOG_LEVEL": "DEBUG", "OTLP_ADDR": ""}
    process = ServerProcess(tmp_path, env)
    process.start()
    try:
        channel = grpc.aio.insecure_channel(process.address)
        stubs = Stubs.over(channel)
        good = (("jobworkerp-auth", secrets["AUTH_TOKEN"]),)
        bad = (("jobworkerp-auth", wrong_token),)
        with pytest.raises(grpc.aio.AioRpcError):
            await stubs.workers.Count(service_common_pb2.CountCondition(), metadata=bad)

        settings = http_request_runner_pb2.HttpRequestRunnerSettings(
            base_url=f"http://jobuser:{url_password}@127.0.0.1:9/"
        )
        await stubs.workers.Create(
            worker_pb2.WorkerData(
                name="leaky",
                runner_id=runner_pb2.RunnerId(value=2),
                runner_settings=settings.SerializeToString(),
                store_failure=True,
                broadcast_results=True,
            ),
            metadata=good,
        )
        args = http_request_args_pb2.HttpRequestArgs(method="GET", path="x")
        enqueued = await stubs.jobs.Enqueue(
            job_service_pb2.JobRequest(worker_name="leaky", args=args.SerializeToString()),
            metadata=good,
        )
        result = await stubs.results.Listen(
            result_service_pb2.ListenRequest(
                job_id=enqueued.id, worker_name="leaky", timeout=30_000
            ),
            metadata=good,
        )
        await channel.close()
    finally:
        assert await asyncio.to_thread(process.stop) == 0

    log = process.text()
    assert result.data.status != common_pb2.SUCCESS
    assert "settings: " in log  # the DEBUG line that lists every setting
    assert "AUTH_TOKEN=***" in log
    for secret in [*secrets.values(), wrong_token, url_password]:
        assert secret not in log, f"{secret!r} appears in the server log"
