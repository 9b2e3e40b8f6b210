"""The two model APIs of the LLM runners: Ollama's and the OpenAI-compatible one.

A backend turns a neutral request (`CompletionRequest`, `ChatRequest`) into
its API's JSON and the API's responses into `Chunk`s. Without streaming it
yields one chunk with the whole text; with streaming one chunk per piece of
text and a last one with `done` set and the token counts.

Option mapping:

| LLMOptions | Ollama `options` | OpenAI-compatible |
| --- | --- | --- |
| max_tokens | num_predict | max_tokens |
| temperature, top_p, seed | same names | same names |
| repeat_penalty, repeat_last_n | same names | not sent: the API has no equivalent |

The OpenAI completions API has no system prompt, so a system prompt is put
before the prompt, separated by a blank line.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from jwp.errors import RunnerArgumentError

from .llm_http import LlmHttpClient

logger = logging.getLogger(__name__)


@dataclass
class Options:
    """Sampling options shared by both APIs; None leaves the server's default."""

    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    repeat_penalty: float | None = None
    repeat_last_n: int | None = None
    seed: int | None = None


@dataclass
class Image:
    """An image in a chat message: a URL, or base64 data with its content type."""

    content_type: str
    url: str = ""
    base64: str = ""


@dataclass
class Message:
    """One chat message; role is "system", "user" or "assistant"."""

    role: str
    text: str = ""
    images: list[Image] = field(default_factory=list)


@dataclass
class CompletionRequest:
    model: str
    prompt: str
    system_prompt: str | None
    options: Options
    context: list[int] | None = None


@dataclass
class ChatRequest:
    model: str
    messages: list[Message]
    options: Options


@dataclass
class Usage:
    model: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_prompt_time_sec: float | None = None
    total_completion_time_sec: float | None = None


@dataclass
class Chunk:
    """A piece of a model's response; the last piece of a response has `done` set."""

    text: str = ""
    reasoning: str | None = None
    done: bool = False
    usage: Usage | None = None
    context: list[int] | None = None


class Backend(abc.ABC):
    """One model API on one server."""

    def __init__(self, client: LlmHttpClient) -> None:
        self.client = client

    @abc.abstractmethod
    def complete(self, request: CompletionRequest, *, stream: bool) -> AsyncIterator[Chunk]:
        """Yield the chunks of the completion of a prompt."""

    @abc.abstractmethod
    def chat(self, request: ChatRequest, *, stream: bool) -> AsyncIterator[Chunk]:
        """Yield the chunks of the next assistant message."""

    async def prepare(self, model: str) -> None:  # noqa: B027 - optional hook
        """Make the model available on the server (Ollama's pull)."""

    async def aclose(self) -> None:
        await self.client.aclose()


class OllamaBackend(Backend):
    """Ollama's native API: /api/generate, /api/chat and /api/pull."""

    async def prepare(self, model: str) -> None:
        logger.info("pulling model %s at %s", model, self.client.base_url)
        await self.client.post_json("/api/pull", {"model": model, "stream": False})

    async def complete(self, request: CompletionRequest, *, stream: bool) -> AsyncIterator[Chunk]:
        body: dict[str, Any] = {"model": request.model, "prompt": request.prompt, "stream": stream}
        if request.system_prompt is not None:
            body["system"] = request.system_prompt
        if request.context is not None:
            body["context"] = request.context
        _put_options(body, request.options)
        async for answer in self._answers("/api/generate", body, stream):
            yield _ollama_chunk(answer, str(answer.get("response", "")), request.model)

    async def chat(self, request: ChatRequest, *, stream: bool) -> AsyncIterator[Chunk]:
        messages = [_ollama_message(message) for message in request.messages]
        body: dict[str, Any] = {"model": request.model, "messages": messages, "stream": stream}
        _put_options(body, request.options)
        async for answer in self._answers("/api/chat", body, stream):
            message = answer.get("message") or {}
            chunk = _ollama_chunk(answer, str(message.get("content", "")), request.model)
            if message.get("thinking"):
                chunk.reasoning = str(message["thinking"])
            yield chunk

    async def _answers(
        self, path: str, body: dict[str, Any], stream: bool
    ) -> AsyncIterator[dict[str, Any]]:
        if not stream:
            yield await self.client.post_json(path, body)
            return
        async for answer in self.client.stream_json(path, body, sse=False):
            yield answer


class OpenAiBackend(Backend):
    """The OpenAI-compatible API: /completions and /chat/completions under the base URL."""

    async def complete(self, request: CompletionRequest, *, stream: bool) -> AsyncIterator[Chunk]:
        prompt = request.prompt
        if request.system_prompt:
            prompt = f"{request.system_prompt}\n\n{prompt}"
        body: dict[str, Any] = {"model": request.model, "prompt": prompt}
        _put_openai_options(body, request.options)
        async for chunk in self._chunks("/completions", body, stream, request.model, "text"):
            yield chunk

    async def chat(self, request: ChatRequest, *, stream: bool) -> AsyncIterator[Chunk]:
        messages = [_openai_message(message) for message in request.messages]
        body: dict[str, Any] = {"model": request.model, "messages": messages}
        _put_openai_options(body, request.options)
        async for chunk in self._chunks("/chat/completions", body, stream, request.model, "chat"):
            yield chunk

    async def _chunks(
        self, path: str, body: dict[str, Any], stream: bool, model: str, kind: str
    ) -> AsyncIterator[Chunk]:
        if not stream:
            answer = await self.client.post_json(path, {**body, "stream": False})
            chunk = _openai_chunk(answer, kind, stream=False)
            chunk.done = True
            chunk.usage = _openai_usage(answer, model)
            yield chunk
            return

        body = {**body, "stream": True, "stream_options": {"include_usage": True}}
        usage: Usage | None = None
        async for answer in self.client.stream_json(path, body, sse=True):
            usage = _openai_usage(answer, model) or usage
            chunk = _openai_chunk(answer, kind, stream=True)
            if chunk.text or chunk.reasoning:
                yield chunk
        yield Chunk(done=True, usage=usage or Usage(model=model))


def _put_options(body: dict[str, Any], options: Options) -> None:
    values = {
        "num_predict": options.max_tokens,
        "temperature": options.temperature,
        "top_p": options.top_p,
        "repeat_penalty": options.repeat_penalty,
        "repeat_last_n": options.repeat_last_n,
        "seed": options.seed,
    }
    sent = {name: value for name, value in values.items() if value is not None}
    if sent:
        body["options"] = sent


def _put_openai_options(body: dict[str, Any], options: Options) -> None:
    for name in ("max_tokens", "temperature", "top_p", "seed"):
        value = getattr(options, name)
        if value is not None:
            body[name] = value
    if options.repeat_penalty is not None or options.repeat_last_n is not None:
        logger.debug("repeat_penalty and repeat_last_n are not sent to an OpenAI-compatible API")


def _ollama_message(message: Message) -> dict[str, Any]:
    result: dict[str, Any] = {"role": message.role, "content": message.text}
    if message.images:
        if any(image.url for image in message.images):
            raise RunnerArgumentError(
                "LLM_CHAT: Ollama accepts images only as base64 data; "
                "set image.source.base64 instead of image.source.url"
            )
        result["images"] = [image.base64 for image in message.images]
    return result


def _openai_message(message: Message) -> dict[str, Any]:
    if not message.images:
        return {"role": message.role, "content": message.text}
    parts: list[dict[str, Any]] = []
    if message.text:
        parts.append({"type": "text", "text": message.text})
    for image in message.images:
        url = image.url or f"data:{image.content_type};base64,{image.base64}"
        parts.append({"type": "image_url", "image_url": {"url": url}})
    return {"role": message.role, "content": parts}


def _ollama_chunk(answer: dict[str, Any], text: str, model: str) -> Chunk:
    chunk = Chunk(text=text, done=bool(answer.get("done")))
    if answer.get("thinking"):
        chunk.reasoning = str(answer["thinking"])
    if not chunk.done:
        return chunk
    chunk.usage = Usage(
        model=str(answer.get("model") or model),
        prompt_tokens=_int_or_none(answer.get("prompt_eval_count")),
        completion_tokens=_int_or_none(answer.get("eval_count")),
        total_prompt_time_sec=_seconds_of_ns(answer.get("prompt_eval_duration")),
        total_completion_time_sec=_seconds_of_ns(answer.get("eval_duration")),
    )
    context = answer.get("context")
    if isinstance(context, list):
        chunk.context = [int(token) for token in context]
    return chunk


def _openai_chunk(answer: dict[str, Any], kind: str, *, stream: bool) -> Chunk:
    choices = answer.get("choices") or []
    if not choices:
        return Chunk()
    choice = choices[0]
    if kind == "text":
        return Chunk(text=str(choice.get("text") or ""))
    message = choice.get("delta" if stream else "message") or {}
    chunk = Chunk(text=str(message.get("content") or ""))
    if message.get("reasoning_content"):
        chunk.reasoning = str(message["reasoning_content"])
    return chunk


def _openai_usage(answer: dict[str, Any], model: str) -> Usage | None:
    usage = answer.get("usage")
    if not isinstance(usage, dict):
        return None
    return Usage(
        model=str(answer.get("model") or model),
        prompt_tokens=_int_or_none(usage.get("prompt_tokens")),
        completion_tokens=_int_or_none(usage.get("completion_tokens")),
    )


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and value >= 0 else None


def _seconds_of_ns(value: object) -> float | None:
    return value / 1e9 if isinstance(value, int) and value >= 0 else None
