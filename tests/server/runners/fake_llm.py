"""A fake model server on loopback speaking Ollama's API and the OpenAI-compatible API.

No model runs here, so the server responds deterministically: the text is
`echo: ` followed by the prompt (or the last user message), split into one
streamed piece per word. A prompt starting with `/think ` gets a
`<think>...</think>` block before that text. The model name selects failures:

| model | behaviour |
| --- | --- |
| `missing` | 404 with the API's error body |
| `crash` | 500 with the API's error body |
| `slow` | never answers |
| `broken-stream` | streams one piece, then an error object |

Only the request and response fields the runners use are implemented; the
real services were not available to compare against.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from tests.support.http_server import Request, Response

PROMPT_TOKENS = 7
CONTEXT = [101, 102, 103]


class FakeLlm:
    """The request handler; `api_key` is the bearer token the OpenAI routes require."""

    def __init__(self, api_key: str = "sk-test-key") -> None:
        self.api_key = api_key
        self.pulled: list[str] = []

    async def handle(self, request: Request) -> Response:
        body = request.json() if request.body else {}
        model = str(body.get("model", ""))
        is_openai = request.path.startswith("/v1/")
        if is_openai and request.header("authorization") != f"Bearer {self.api_key}":
            sent = (request.header("authorization") or "").removeprefix("Bearer ")
            return _error(is_openai, 401, f"Incorrect API key provided: {sent}")
        if model == "missing":
            return _error(is_openai, 404, f"model '{model}' not found")
        if model == "crash":
            return _error(is_openai, 500, "the model runner crashed")
        if model == "slow":
            await asyncio.Event().wait()

        route = {
            "/api/pull": self._pull,
            "/api/generate": _ollama_generate,
            "/api/chat": _ollama_chat,
            "/v1/completions": _openai_completions,
            "/v1/chat/completions": _openai_chat,
        }.get(request.path)
        if route is None:
            return _error(is_openai, 404, f"no route {request.path}")
        return await route(body)

    async def _pull(self, body: dict[str, Any]) -> Response:
        self.pulled.append(body["model"])
        return Response.json({"status": "success"})


def reply_to(text: str) -> str:
    """Return the fake's answer; a prompt starting with `/think ` gets a reasoning block first."""
    if text.startswith("/think "):
        return f"<think>thinking about it</think>echo: {text.removeprefix('/think ')}"
    return f"echo: {text}"


def _pieces(reply: str) -> list[str]:
    words = reply.split(" ")
    return [word if index == 0 else " " + word for index, word in enumerate(words)]


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message["role"] == "user":
            content = message["content"]
            if isinstance(content, list):
                return " ".join(part.get("text", "[image]") for part in content)
            return str(content) or "[image]"
    return ""


def _error(is_openai: bool, status: int, message: str) -> Response:
    if is_openai:
        return Response.json({"error": {"message": message, "type": "invalid_request"}}, status)
    return Response.json({"error": message}, status)


def _ollama_final(model: str, reply: str) -> dict[str, Any]:
    return {
        "model": model,
        "done": True,
        "prompt_eval_count": PROMPT_TOKENS,
        "eval_count": len(_pieces(reply)),
        "prompt_eval_duration": 250_000_000,
        "eval_duration": 1_500_000_000,
    }


async def _ollama_generate(body: dict[str, Any]) -> Response:
    model = body["model"]
    reply = reply_to(body["prompt"])
    final = {**_ollama_final(model, reply), "context": CONTEXT}
    if not body.get("stream", True):
        return Response.json({**final, "response": reply})
    lines = [{"model": model, "response": piece, "done": False} for piece in _pieces(reply)]
    return _ndjson(model, [*lines, {**final, "response": ""}])


async def _ollama_chat(body: dict[str, Any]) -> Response:
    model = body["model"]
    reply = reply_to(_last_user_text(body["messages"]))
    final = _ollama_final(model, reply)
    if not body.get("stream", True):
        return Response.json({**final, "message": {"role": "assistant", "content": reply}})
    lines = [
        {"model": model, "message": {"role": "assistant", "content": piece}, "done": False}
        for piece in _pieces(reply)
    ]
    return _ndjson(model, [*lines, {**final, "message": {"role": "assistant", "content": ""}}])


def _ndjson(model: str, objects: list[dict[str, Any]]) -> Response:
    if model == "broken-stream":
        objects = [objects[0], {"error": "the model runner stopped"}]

    async def lines() -> AsyncIterator[bytes]:
        for value in objects:
            yield json.dumps(value).encode() + b"\n"

    return Response(200, [("content-type", "application/x-ndjson")], lines())


def _openai_usage(reply: str) -> dict[str, int]:
    completion = len(_pieces(reply))
    return {
        "prompt_tokens": PROMPT_TOKENS,
        "completion_tokens": completion,
        "total_tokens": PROMPT_TOKENS + completion,
    }


async def _openai_completions(body: dict[str, Any]) -> Response:
    model = body["model"]
    reply = reply_to(body["prompt"])
    if not body.get("stream"):
        choice = {"index": 0, "text": reply, "finish_reason": "stop"}
        return Response.json({"model": model, "choices": [choice], "usage": _openai_usage(reply)})
    events = [{"model": model, "choices": [{"index": 0, "text": p}]} for p in _pieces(reply)]
    return _sse(model, body, events, reply)


async def _openai_chat(body: dict[str, Any]) -> Response:
    model = body["model"]
    reply = reply_to(_last_user_text(body["messages"]))
    if not body.get("stream"):
        message = {"role": "assistant", "content": reply}
        choice = {"index": 0, "message": message, "finish_reason": "stop"}
        return Response.json({"model": model, "choices": [choice], "usage": _openai_usage(reply)})
    events = [
        {"model": model, "choices": [{"index": 0, "delta": {"content": piece}}]}
        for piece in _pieces(reply)
    ]
    return _sse(model, body, events, reply)


def _sse(model: str, body: dict[str, Any], events: list[dict[str, Any]], reply: str) -> Response:
    if model == "broken-stream":
        events = [events[0], {"error": {"message": "the model runner stopped"}}]
    elif body.get("stream_options", {}).get("include_usage"):
        events.append({"model": model, "choices": [], "usage": _openai_usage(reply)})

    async def lines() -> AsyncIterator[bytes]:
        yield b": keep-alive comment\n\n"
        for value in events:
            yield b"data: " + json.dumps(value).encode() + b"\n\n"
        yield b"data: [DONE]\n\n"

    return Response(200, [("content-type", "text/event-stream")], lines())
