"""The LLM_COMPLETION and LLM_CHAT runners: text from a model served over HTTP.

The worker's `LLMRunnerSettings` choose the API:

- `ollama`: Ollama's `/api/generate` and `/api/chat` at `base_url` (default
  `http://localhost:11434`); with `pull_model` the model is pulled on load.
- `genai`: an OpenAI-compatible `/completions` and `/chat/completions` at
  `base_url` (default `https://api.openai.com/v1`), with OPENAI_API_KEY
  as the bearer token when it is set.

`run` returns one result with the whole text, `done` set and the token
usage. `run_stream` yields one result per piece of text as the model
produces it, then a last one with `done` set and the usage. For Ollama
completions the last result also has the context to continue from. Function calling
(`function_options`) is not supported and is rejected.

`extract_reasoning_content` moves a leading `<think>...</think>` block of
the text into `reasoning_content`. It applies to `run` only, because in a
stream the block may be split across pieces.

NOTE: both APIs were tested against a local fake server speaking them
(tests/server/runners/fake_llm.py), not against Ollama or OpenAI.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from jwp.errors import RunnerArgumentError
from jwp.proto.jobworkerp.runner.llm import (
    chat_args_pb2,
    chat_result_pb2,
    completion_args_pb2,
    completion_result_pb2,
)
from jwp.proto.jobworkerp.runner.llm.runner_pb2 import LLMRunnerSettings

from . import llm_backends as backends
from .base import Runner
from .llm_http import LlmHttpClient
from .parsing import parse_args, parse_settings, require_field

logger = logging.getLogger(__name__)

DEFAULT_OLLAMA_URL = "http://localhost:11434"
DEFAULT_OPENAI_URL = "https://api.openai.com/v1"

_THINK_BLOCK = re.compile(r"^\s*<think>(?P<reasoning>.*?)</think>\s*", re.DOTALL)

_ROLES = {
    chat_args_pb2.LLMChatArgs.ROLE_SYSTEM: "system",
    chat_args_pb2.LLMChatArgs.ROLE_USER: "user",
    chat_args_pb2.LLMChatArgs.ROLE_ASSISTANT: "assistant",
}

OptionsMessage = (
    completion_args_pb2.LLMCompletionArgs.LLMOptions | chat_args_pb2.LLMChatArgs.LLMOptions
)
FunctionOptionsMessage = (
    completion_args_pb2.LLMCompletionArgs.FunctionOptions
    | chat_args_pb2.LLMChatArgs.FunctionOptions
)


class _LlmRunner(Runner):
    """Loads the settings into a backend; the subclasses build requests and results."""

    runner_name = ""

    def __init__(
        self, *, openai_api_key: str | None, connect_timeout_s: float, read_timeout_s: float
    ) -> None:
        self._openai_api_key = openai_api_key
        self._connect_timeout_s = connect_timeout_s
        self._read_timeout_s = read_timeout_s
        self._backend: backends.Backend | None = None
        self.model = ""
        self.system_prompt: str | None = None

    async def load(self, settings: bytes) -> None:
        """Choose the API from the settings and, for Ollama with `pull_model`, pull the model.

        Raises:
            RunnerArgumentError: The settings do not decode, name no API or no
                model, or have an invalid base_url.
            RetryableRunnerError: Pulling the model failed for lack of a response.
        """
        message = parse_settings(LLMRunnerSettings, settings, self.runner_name)
        kind = message.WhichOneof("settings")
        if kind == "ollama":
            await self._load_ollama(message.ollama)
        elif kind == "genai":
            self._load_genai(message.genai)
        else:
            raise RunnerArgumentError(
                f"{self.runner_name}: settings set neither `ollama` nor `genai`; set one of them"
            )

    async def _load_ollama(self, settings: LLMRunnerSettings.OllamaRunnerSettings) -> None:
        self.model = require_field(settings.model, "ollama.model", self.runner_name, _MODEL_HINT)
        if settings.HasField("system_prompt"):
            self.system_prompt = settings.system_prompt
        base_url = _base_url(settings, DEFAULT_OLLAMA_URL, "ollama.base_url", self.runner_name)
        client = self._client(base_url, "Ollama", api_key=None)
        self._backend = backends.OllamaBackend(client)
        if settings.pull_model:
            await self._backend.prepare(self.model)

    def _load_genai(self, settings: LLMRunnerSettings.GenaiRunnerSettings) -> None:
        self.model = require_field(settings.model, "genai.model", self.runner_name, _MODEL_HINT)
        if settings.HasField("system_prompt"):
            self.system_prompt = settings.system_prompt
        base_url = _base_url(settings, DEFAULT_OPENAI_URL, "genai.base_url", self.runner_name)
        client = self._client(base_url, "OpenAI-compatible API", api_key=self._openai_api_key)
        self._backend = backends.OpenAiBackend(client)

    def _client(self, base_url: str, service: str, api_key: str | None) -> LlmHttpClient:
        return LlmHttpClient(
            base_url,
            service=service,
            api_key=api_key,
            connect_timeout_s=self._connect_timeout_s,
            read_timeout_s=self._read_timeout_s,
        )

    async def close(self) -> None:
        if self._backend is not None:
            await self._backend.aclose()
            self._backend = None

    def backend(self) -> backends.Backend:
        if self._backend is None:
            raise RuntimeError(f"{type(self).__name__} used before load")
        return self._backend


class LlmCompletionRunner(_LlmRunner):
    """LLM_COMPLETION: completes `LLMCompletionArgs.prompt`."""

    runner_name = "LLM_COMPLETION"

    async def run(self, args: bytes, metadata: Mapping[str, str]) -> bytes:
        """Return an encoded `LLMCompletionResult` with the whole completion."""
        request, extract = self._request(args)
        chunks = [chunk async for chunk in self.backend().complete(request, stream=False)]
        final = _merge(chunks, extract)
        return _completion_result(final).SerializeToString()

    async def run_stream(self, args: bytes, metadata: Mapping[str, str]) -> AsyncIterator[bytes]:
        """Yield an encoded `LLMCompletionResult` per piece of text, the last with `done` set."""
        request, _ = self._request(args)
        async for chunk in self.backend().complete(request, stream=True):
            yield _completion_result(chunk).SerializeToString()

    def _request(self, args: bytes) -> tuple[backends.CompletionRequest, bool]:
        message = parse_args(completion_args_pb2.LLMCompletionArgs, args, self.runner_name)
        _reject_function_options(message, self.runner_name)
        if not message.prompt:
            raise RunnerArgumentError(
                f"{self.runner_name}: prompt is empty; set the text to complete"
            )
        context = None
        if message.HasField("context") and message.context.HasField("ollama_context"):
            context = list(message.context.ollama_context.data)
        request = backends.CompletionRequest(
            model=message.model if message.HasField("model") and message.model else self.model,
            prompt=message.prompt,
            system_prompt=(
                message.system_prompt if message.HasField("system_prompt") else self.system_prompt
            ),
            options=_options(message),
            context=context,
        )
        extract = (
            message.options.extract_reasoning_content if message.HasField("options") else False
        )
        return request, extract


class LlmChatRunner(_LlmRunner):
    """LLM_CHAT: answers the conversation in `LLMChatArgs.messages`."""

    runner_name = "LLM_CHAT"

    async def run(self, args: bytes, metadata: Mapping[str, str]) -> bytes:
        """Return an encoded `LLMChatResult` with the whole assistant message."""
        request, extract = self._request(args)
        chunks = [chunk async for chunk in self.backend().chat(request, stream=False)]
        return _chat_result(_merge(chunks, extract)).SerializeToString()

    async def run_stream(self, args: bytes, metadata: Mapping[str, str]) -> AsyncIterator[bytes]:
        """Yield an encoded `LLMChatResult` per piece of text, the last with `done` set."""
        request, _ = self._request(args)
        async for chunk in self.backend().chat(request, stream=True):
            yield _chat_result(chunk).SerializeToString()

    def _request(self, args: bytes) -> tuple[backends.ChatRequest, bool]:
        message = parse_args(chat_args_pb2.LLMChatArgs, args, self.runner_name)
        _reject_function_options(message, self.runner_name)
        if not message.messages:
            raise RunnerArgumentError(
                f"{self.runner_name}: messages is empty; give at least one user message"
            )
        messages = [_chat_message(index, item) for index, item in enumerate(message.messages)]
        if self.system_prompt and all(item.role != "system" for item in messages):
            messages.insert(0, backends.Message(role="system", text=self.system_prompt))
        request = backends.ChatRequest(
            model=message.model if message.HasField("model") and message.model else self.model,
            messages=messages,
            options=_options(message),
        )
        extract = (
            message.options.extract_reasoning_content if message.HasField("options") else False
        )
        return request, extract


_MODEL_HINT = 'set it to the model name, e.g. "llama3.2"'


def _base_url(
    settings: LLMRunnerSettings.OllamaRunnerSettings | LLMRunnerSettings.GenaiRunnerSettings,
    default: str,
    field: str,
    runner_name: str,
) -> str:
    text = settings.base_url.strip()
    if not text:
        return default
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise RunnerArgumentError(
            f"{runner_name}: {field} {text!r} is not an absolute http or https URL"
        )
    return text


def _reject_function_options(
    message: completion_args_pb2.LLMCompletionArgs | chat_args_pb2.LLMChatArgs, runner_name: str
) -> None:
    if not message.HasField("function_options"):
        return
    options: FunctionOptionsMessage = message.function_options
    if options.ListFields():
        raise RunnerArgumentError(
            f"{runner_name}: function_options (function calling) is not supported by jwp; "
            "remove function_options from the job args"
        )


def _options(
    message: completion_args_pb2.LLMCompletionArgs | chat_args_pb2.LLMChatArgs,
) -> backends.Options:
    options = backends.Options()
    if not message.HasField("options"):
        return options
    source: OptionsMessage = message.options
    for name in ("max_tokens", "temperature", "top_p", "repeat_penalty", "repeat_last_n", "seed"):
        if source.HasField(name):
            setattr(options, name, getattr(source, name))
    return options


def _chat_message(index: int, message: chat_args_pb2.LLMChatArgs.ChatMessage) -> backends.Message:
    role = _ROLES.get(message.role)
    if role is None:
        name = chat_args_pb2.LLMChatArgs.ChatRole.Name(message.role)
        raise RunnerArgumentError(
            f"LLM_CHAT: messages[{index}] has role {name}; use ROLE_SYSTEM, ROLE_USER or "
            "ROLE_ASSISTANT (tool messages need function calling, which jwp does not support)"
        )
    content = message.content
    kind = content.WhichOneof("content")
    if kind == "text":
        return backends.Message(role=role, text=content.text)
    if kind == "image":
        source = content.image.source
        if not source.url and not source.base64:
            raise RunnerArgumentError(
                f"LLM_CHAT: messages[{index}] has an image without url or base64 data"
            )
        image = backends.Image(content.image.content_type, source.url, source.base64)
        return backends.Message(role=role, images=[image])
    raise RunnerArgumentError(
        f"LLM_CHAT: messages[{index}] has {'tool calls' if kind else 'no content'}; "
        "give text or an image"
    )


def _merge(chunks: list[backends.Chunk], extract_reasoning: bool) -> backends.Chunk:
    """Join the chunks of one response into one chunk with the last chunk's usage."""
    final = backends.Chunk(done=True)
    final.text = "".join(chunk.text for chunk in chunks)
    reasoning = "".join(chunk.reasoning or "" for chunk in chunks)
    final.reasoning = reasoning or None
    if chunks:
        final.usage = chunks[-1].usage
        final.context = chunks[-1].context
    if extract_reasoning and (match := _THINK_BLOCK.match(final.text)):
        final.reasoning = (final.reasoning or "") + match.group("reasoning").strip()
        final.text = final.text[match.end() :]
    return final


def _fill_usage(usage: Any, source: backends.Usage) -> None:
    usage.model = source.model
    names = (
        "prompt_tokens",
        "completion_tokens",
        "total_prompt_time_sec",
        "total_completion_time_sec",
    )
    for name in names:
        value = getattr(source, name)
        if value is not None:
            setattr(usage, name, value)


def _completion_result(chunk: backends.Chunk) -> completion_result_pb2.LLMCompletionResult:
    result = completion_result_pb2.LLMCompletionResult(done=chunk.done)
    if chunk.text or chunk.done:
        result.content.text = chunk.text
    if chunk.reasoning:
        result.reasoning_content = chunk.reasoning
    if chunk.usage is not None:
        _fill_usage(result.usage, chunk.usage)
    if chunk.context is not None:
        result.context.ollama.data.extend(chunk.context)
    return result


def _chat_result(chunk: backends.Chunk) -> chat_result_pb2.LLMChatResult:
    result = chat_result_pb2.LLMChatResult(done=chunk.done)
    if chunk.text or chunk.done:
        result.content.text = chunk.text
    if chunk.reasoning:
        result.reasoning_content = chunk.reasoning
    if chunk.usage is not None:
        _fill_usage(result.usage, chunk.usage)
    return result
