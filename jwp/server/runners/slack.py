"""The SLACK_POST_MESSAGE runner: post a message with Slack's `chat.postMessage` method.

The worker's settings hold the bot token (sent as a bearer token, never
logged) and an optional bot name used as `username` when the job gives
none. The Web API base URL comes from the server setting
JWP_SLACK_API_BASE_URL, so tests point it at a local server.

Slack reports most errors with HTTP 200 and `"ok": false`. Such a response
fails the job with OTHER_ERROR and Slack's error code, because sending the
same request again gets the same response. Rate limiting (429) and server
errors (5xx) are retryable.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import httpx
from google.protobuf import json_format

from jwp.errors import RetryableRunnerError, RunnerArgumentError
from jwp.proto.jobworkerp.runner.slack_args_pb2 import SlackChatPostMessageArgs
from jwp.proto.jobworkerp.runner.slack_result_pb2 import SlackChatPostMessageResult
from jwp.proto.jobworkerp.runner.slack_runner_pb2 import SlackRunnerSettings

from .base import Runner
from .parsing import parse_args, parse_settings, require_field

logger = logging.getLogger(__name__)

RUNNER_NAME = "SLACK_POST_MESSAGE"

# Optional scalar fields of SlackChatPostMessageArgs sent under the same name.
_OPTIONAL_FIELDS = (
    "text",
    "icon_emoji",
    "icon_url",
    "link_names",
    "mrkdwn",
    "parse",
    "reply_broadcast",
    "thread_ts",
    "unfurl_links",
    "unfurl_media",
    "username",
)


class SlackPostMessageRunner(Runner):
    """Posts `SlackChatPostMessageArgs` to a channel with the worker's bot token.

    Args:
        api_base_url: Base URL of the Slack Web API, e.g. `https://slack.com/api`.
        connect_timeout_s: Limit for opening a connection.
        read_timeout_s: Limit for each read of the response.
    """

    def __init__(
        self, *, api_base_url: str, connect_timeout_s: float, read_timeout_s: float
    ) -> None:
        self._url = api_base_url.rstrip("/") + "/chat.postMessage"
        self._timeout = httpx.Timeout(
            connect=connect_timeout_s, read=read_timeout_s, write=read_timeout_s, pool=None
        )
        self._settings = SlackRunnerSettings()
        self._client: httpx.AsyncClient | None = None

    async def load(self, settings: bytes) -> None:
        """Check that the settings carry a bot token and open the client.

        Raises:
            RunnerArgumentError: The settings do not decode or `bot_token` is empty.
        """
        self._settings = parse_settings(SlackRunnerSettings, settings, RUNNER_NAME)
        require_field(
            self._settings.bot_token, "bot_token", RUNNER_NAME, "set it to the bot's xoxb- token"
        )
        self._client = httpx.AsyncClient(timeout=self._timeout)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def run(self, args: bytes, metadata: Mapping[str, str]) -> bytes:
        """Post the message and return an encoded `SlackChatPostMessageResult`.

        Raises:
            RunnerArgumentError: Invalid args, or Slack rejected the message.
            RetryableRunnerError: A timeout, a broken connection, 429 or a 5xx status.
        """
        if self._client is None:
            raise RuntimeError("SlackPostMessageRunner.run called before load")
        message_args = parse_args(SlackChatPostMessageArgs, args, RUNNER_NAME)
        payload = build_payload(message_args, self._settings)

        response = await self._post(self._client, payload)
        answer = _read_response(response)
        logger.debug("Slack message posted to %s (ts %s)", answer.get("channel"), answer.get("ts"))
        return SlackChatPostMessageResult(
            channel=str(answer.get("channel", "")),
            ts=str(answer.get("ts", "")),
            message=json.dumps(answer.get("message", {}), ensure_ascii=False),
        ).SerializeToString()

    async def _post(self, client: httpx.AsyncClient, payload: dict[str, Any]) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._settings.bot_token}"}
        try:
            return await client.post(self._url, json=payload, headers=headers)
        except httpx.TimeoutException as error:
            raise RetryableRunnerError(
                f"Slack chat.postMessage at {self._url} timed out ({type(error).__name__})"
            ) from None
        except httpx.TransportError as error:
            raise RetryableRunnerError(
                f"Slack chat.postMessage at {self._url} failed: {type(error).__name__}: {error}"
            ) from None


def build_payload(args: SlackChatPostMessageArgs, settings: SlackRunnerSettings) -> dict[str, Any]:
    """Return the JSON body of chat.postMessage for the args.

    Raises:
        RunnerArgumentError: `channel` is empty or a block is not a JSON object.
    """
    channel = require_field(args.channel, "channel", RUNNER_NAME, "set it to a channel id or name")
    payload: dict[str, Any] = {"channel": channel}
    for name in _OPTIONAL_FIELDS:
        if args.HasField(name):
            payload[name] = getattr(args, name)
    if "username" not in payload and settings.HasField("bot_name"):
        payload["username"] = settings.bot_name
    if args.attachments:
        payload["attachments"] = [
            json_format.MessageToDict(attachment, preserving_proto_field_name=True)
            for attachment in args.attachments
        ]
    if args.blocks:
        payload["blocks"] = [_parse_block(index, text) for index, text in enumerate(args.blocks)]
    return payload


def _parse_block(index: int, text: str) -> dict[str, Any]:
    try:
        block = json.loads(text)
    except json.JSONDecodeError as error:
        raise RunnerArgumentError(
            f"{RUNNER_NAME}: blocks[{index}] is not valid JSON ({error}); give each block as "
            'a JSON object such as {"type": "section", "text": {...}}'
        ) from None
    if not isinstance(block, dict):
        raise RunnerArgumentError(f"{RUNNER_NAME}: blocks[{index}] is not a JSON object")
    return block


def _read_response(response: httpx.Response) -> dict[str, Any]:
    """Return the JSON body of the response, or raise the error its status or `ok` calls for."""
    status = response.status_code
    if status == 429:
        retry_after = response.headers.get("retry-after", "unknown")
        raise RetryableRunnerError(
            f"Slack rate-limited chat.postMessage (HTTP 429, retry after {retry_after} s)"
        )
    if status >= 500:
        raise RetryableRunnerError(f"Slack chat.postMessage failed with HTTP {status}")
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise RunnerArgumentError(
            f"Slack chat.postMessage responded with HTTP {status} without a JSON object; "
            "check JWP_SLACK_API_BASE_URL"
        )
    if status >= 400 or not answer.get("ok"):
        error = answer.get("error", f"HTTP {status}")
        raise RunnerArgumentError(f"Slack rejected chat.postMessage: {error}")
    return answer
