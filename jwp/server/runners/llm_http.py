"""HTTP transport of the LLM runners: JSON requests, streamed responses, and error classes.

Both model APIs the runners speak respond to a request with one JSON object
or, when streaming, with a sequence of them: Ollama as newline-delimited JSON,
OpenAI-compatible servers as server-sent events (`data: {...}` lines ending
with `data: [DONE]`). This module turns either into JSON objects and maps
failures onto runner errors:

- no response (connection refused or broken, timeouts), HTTP 429 and 5xx:
  RetryableRunnerError, because a later attempt may succeed;
- other 4xx: RunnerArgumentError with the server's message, because the
  request itself was refused (unknown model, bad option, invalid key).

The API key never appears in an error message, even when a server echoes it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx

from jwp.errors import RetryableRunnerError, RunnerArgumentError

logger = logging.getLogger(__name__)

# Bytes of an error response body kept in an error message.
ERROR_BODY_LIMIT = 500


class LlmHttpClient:
    """Posts JSON to one model server and reads JSON or streamed JSON back.

    Args:
        base_url: URL the request paths are appended to, without a trailing slash.
        service: Name of the API in error messages, e.g. "Ollama".
        api_key: Sent as a bearer token when set.
        connect_timeout_s: Limit for opening a connection.
        read_timeout_s: Limit for each read; a model may load before its first token.
    """

    def __init__(
        self,
        base_url: str,
        *,
        service: str,
        api_key: str | None,
        connect_timeout_s: float,
        read_timeout_s: float,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.service = service
        self._api_key = api_key
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(
            headers=headers,
            timeout=httpx.Timeout(
                connect=connect_timeout_s, read=read_timeout_s, write=read_timeout_s, pool=None
            ),
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def post_json(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """Post `body` and return the JSON object of the response."""
        url = self.base_url + path
        try:
            response = await self._client.post(url, json=body)
        except httpx.HTTPError as error:
            raise self._transport_error(url, error) from None
        self._check_status(url, response.status_code, response.content)
        return self._parse_object(url, response.content)

    async def stream_json(
        self, path: str, body: dict[str, Any], *, sse: bool
    ) -> AsyncIterator[dict[str, Any]]:
        """Post `body` and yield each JSON object of the streamed response.

        `sse` selects server-sent events; otherwise each line is one object.
        An SSE stream ends at `data: [DONE]`.
        """
        url = self.base_url + path
        try:
            async with self._client.stream("POST", url, json=body) as response:
                if response.status_code >= 400:
                    self._check_status(url, response.status_code, await response.aread())
                async for line in response.aiter_lines():
                    payload = _payload_of(line, sse)
                    if payload is None:
                        continue
                    if payload == "[DONE]":
                        return
                    yield self._parse_object(url, payload.encode())
        except httpx.HTTPError as error:
            raise self._transport_error(url, error) from None

    def redact(self, text: str) -> str:
        """Return `text` with the API key replaced, for messages that quote a server."""
        if self._api_key:
            text = text.replace(self._api_key, "<api key>")
        return text

    def _check_status(self, url: str, status: int, content: bytes) -> None:
        if status < 400:
            return
        detail = self.redact(_error_detail(content))
        message = f"{self.service} at {url} responded with HTTP {status}: {detail}"
        if status == 429 or status >= 500:
            raise RetryableRunnerError(message)
        raise RunnerArgumentError(message)

    def _parse_object(self, url: str, content: bytes) -> dict[str, Any]:
        try:
            value = json.loads(content)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            excerpt = self.redact(content[:ERROR_BODY_LIMIT].decode("utf-8", "replace"))
            raise RetryableRunnerError(
                f"{self.service} at {url} sent something other than a JSON object: {excerpt!r}"
            )
        if "error" in value:
            # Both APIs report a failure inside a stream as an object with
            # an "error" member; the request was accepted, so it may pass later.
            detail = self.redact(_error_detail(content))
            raise RetryableRunnerError(f"{self.service} at {url} reported an error: {detail}")
        return value

    def _transport_error(self, url: str, error: httpx.HTTPError) -> RetryableRunnerError:
        kind = "timed out" if isinstance(error, httpx.TimeoutException) else "failed"
        logger.debug("%s request to %s %s: %r", self.service, url, kind, error)
        return RetryableRunnerError(
            f"{self.service} request to {url} {kind}: {type(error).__name__}: "
            f"{self.redact(str(error)) or 'no detail'}"
        )


def _payload_of(line: str, sse: bool) -> str | None:
    """Return the JSON text of one line of a stream, or None for lines without data."""
    line = line.strip()
    if not line:
        return None
    if not sse:
        return line
    if not line.startswith("data:"):
        return None  # comments, `event:` and `id:` lines carry no data
    return line.removeprefix("data:").strip()


def _error_detail(content: bytes) -> str:
    """Return the message of an error body: Ollama's `error`, OpenAI's `error.message`, or text."""
    text = content[:ERROR_BODY_LIMIT].decode("utf-8", "replace")
    try:
        value = json.loads(content)
    except ValueError:
        return text or "no detail"
    if isinstance(value, dict):
        error = value.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
        if isinstance(error, str):
            return error
    return text
