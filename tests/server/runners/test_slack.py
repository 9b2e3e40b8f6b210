"""Tests of the SLACK_POST_MESSAGE runner against a local server speaking Slack's Web API.

Only the subset of `chat.postMessage` that the runner uses is served here;
the runner was not run against Slack itself.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from jwp.errors import RetryableRunnerError, RunnerArgumentError
from jwp.proto.jobworkerp.data import common_pb2
from jwp.proto.jobworkerp.runner.slack_args_pb2 import SlackChatPostMessageArgs
from jwp.proto.jobworkerp.runner.slack_result_pb2 import SlackChatPostMessageResult
from jwp.proto.jobworkerp.runner.slack_runner_pb2 import SlackRunnerSettings
from jwp.server.runners.slack import SlackPostMessageRunner
from tests.support.http_server import HttpServer, Request, Response, serve_http
from tests.support.jobs import output_text, run_job, server_stubs

SLACK = common_pb2.RunnerType.SLACK_POST_MESSAGE
TOKEN = "xoxb-test-token"


async def fake_slack(request: Request) -> Response:
    """Post a message as Slack does, or return the error that the channel name selects."""
    if request.path != "/api/chat.postMessage" or request.method != "POST":
        return Response.json({"ok": False, "error": "unknown_method"}, status=404)
    if request.header("authorization") != f"Bearer {TOKEN}":
        return Response.json({"ok": False, "error": "invalid_auth"})
    payload = request.json()
    channel = payload["channel"]
    if channel == "missing":
        return Response.json({"ok": False, "error": "channel_not_found"})
    if channel == "busy":
        return Response(429, [("retry-after", "30")], b"")
    if channel == "down":
        return Response(503, body=b"unavailable")
    if channel == "slow":
        await asyncio.Event().wait()
    message = {key: value for key, value in payload.items() if key != "channel"}
    return Response.json(
        {"ok": True, "channel": "C123", "ts": "1700000000.000100", "message": message}
    )


@pytest.fixture
async def slack() -> AsyncIterator[HttpServer]:
    async with serve_http(fake_slack) as server:
        yield server


def settings(token: str = TOKEN, bot_name: str | None = None) -> bytes:
    message = SlackRunnerSettings(bot_token=token)
    if bot_name is not None:
        message.bot_name = bot_name
    return message.SerializeToString()


async def post(
    server: HttpServer, message: SlackChatPostMessageArgs, runner_settings: bytes | None = None
) -> SlackChatPostMessageResult:
    runner = SlackPostMessageRunner(
        api_base_url=server.url + "/api/", connect_timeout_s=5, read_timeout_s=0.5
    )
    await runner.load(runner_settings or settings())
    try:
        return SlackChatPostMessageResult.FromString(
            await runner.run(message.SerializeToString(), {})
        )
    finally:
        await runner.close()


async def test_post_text_message(slack: HttpServer) -> None:
    result = await post(slack, SlackChatPostMessageArgs(channel="#general", text="hello"))

    assert result.channel == "C123"
    assert result.ts == "1700000000.000100"
    assert json.loads(result.message) == {"text": "hello"}
    assert slack.requests[0].header("content-type") == "application/json"


async def test_payload_carries_attachments_blocks_and_options(slack: HttpServer) -> None:
    message = SlackChatPostMessageArgs(
        channel="C1", text="t", thread_ts="1.2", unfurl_links=False, mrkdwn=True
    )
    attachment = message.attachments.add(color="#ff0000", title="Build", mrkdwn_in=["text"])
    attachment.fields.add(title="status", value="ok", short=True)
    message.blocks.append('{"type": "divider"}')

    await post(slack, message, settings(bot_name="jwp-bot"))

    payload = slack.requests[0].json()
    assert payload["channel"] == "C1"
    assert payload["thread_ts"] == "1.2"
    assert payload["unfurl_links"] is False
    assert payload["mrkdwn"] is True
    assert payload["username"] == "jwp-bot"
    assert payload["blocks"] == [{"type": "divider"}]
    assert payload["attachments"] == [
        {
            "color": "#ff0000",
            "title": "Build",
            "mrkdwn_in": ["text"],
            "fields": [{"title": "status", "value": "ok", "short": True}],
        }
    ]
    assert "icon_emoji" not in payload


async def test_job_username_overrides_bot_name(slack: HttpServer) -> None:
    await post(slack, SlackChatPostMessageArgs(channel="C1", username="me"), settings(bot_name="b"))

    assert slack.requests[0].json()["username"] == "me"


async def test_slack_error_code_is_argument_error(slack: HttpServer) -> None:
    with pytest.raises(RunnerArgumentError, match="channel_not_found"):
        await post(slack, SlackChatPostMessageArgs(channel="missing", text="x"))


async def test_wrong_token_is_argument_error(slack: HttpServer) -> None:
    with pytest.raises(RunnerArgumentError, match="invalid_auth") as caught:
        await post(slack, SlackChatPostMessageArgs(channel="C1"), settings(token="xoxb-wrong"))

    assert "xoxb-wrong" not in str(caught.value)


@pytest.mark.parametrize(
    ("channel", "message"),
    [("busy", "HTTP 429, retry after 30 s"), ("down", "HTTP 503"), ("slow", "timed out")],
)
async def test_rate_limit_server_error_and_timeout_retryable(
    slack: HttpServer, channel: str, message: str
) -> None:
    with pytest.raises(RetryableRunnerError, match=message):
        await post(slack, SlackChatPostMessageArgs(channel=channel, text="x"))


async def test_invalid_block_rejected(slack: HttpServer) -> None:
    with pytest.raises(RunnerArgumentError, match=r"blocks\[1\] is not valid JSON"):
        await post(slack, SlackChatPostMessageArgs(channel="C1", blocks=["{}", "{oops"]))
    assert slack.requests == []


async def test_empty_channel_rejected(slack: HttpServer) -> None:
    with pytest.raises(RunnerArgumentError, match="channel is empty"):
        await post(slack, SlackChatPostMessageArgs(text="x"))


async def test_empty_token_rejected_at_load() -> None:
    runner = SlackPostMessageRunner(
        api_base_url="http://127.0.0.1:1", connect_timeout_s=1, read_timeout_s=1
    )
    with pytest.raises(RunnerArgumentError, match="bot_token is empty"):
        await runner.load(settings(token=""))


async def test_job_posts_message(tmp_path: Path, slack: HttpServer) -> None:
    args = SlackChatPostMessageArgs(channel="C1", text="from a job").SerializeToString()

    async with server_stubs(tmp_path, jwp_slack_api_base_url=slack.url + "/api") as stubs:
        result = await run_job(stubs, SLACK, settings(), args)

    assert result.status == common_pb2.SUCCESS
    assert SlackChatPostMessageResult.FromString(result.output.items).channel == "C123"


async def test_job_timeout_ends_in_max_retry(tmp_path: Path, slack: HttpServer) -> None:
    args = SlackChatPostMessageArgs(channel="slow", text="x").SerializeToString()

    async with server_stubs(tmp_path, jwp_slack_api_base_url=slack.url + "/api") as stubs:
        result = await run_job(stubs, SLACK, settings(), args, timeout_ms=200)

    assert result.status == common_pb2.MAX_RETRY
    assert "timed out after 200 ms" in output_text(result)
