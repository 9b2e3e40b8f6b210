"""Tests of the LLM_COMPLETION and LLM_CHAT runners against a fake model server on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from jwp.errors import RetryableRunnerError, RunnerArgumentError
from jwp.proto.jobworkerp.data import common_pb2
from jwp.proto.jobworkerp.runner.llm.chat_args_pb2 import LLMChatArgs
from jwp.proto.jobworkerp.runner.llm.chat_result_pb2 import LLMChatResult
from jwp.proto.jobworkerp.runner.llm.completion_args_pb2 import LLMCompletionArgs
from jwp.proto.jobworkerp.runner.llm.completion_result_pb2 import LLMCompletionResult
from jwp.proto.jobworkerp.runner.llm.runner_pb2 import LLMRunnerSettings
from jwp.server.runners.llm import LlmChatRunner, LlmCompletionRunner
from tests.server.runners.fake_llm import CONTEXT, PROMPT_TOKENS, FakeLlm
from tests.support.http_server import HttpServer, serve_http
from tests.support.jobs import output_text, run_job, server_stubs

API_KEY = "sk-test-key"
Role = LLMChatArgs.ChatRole


@pytest.fixture
def fake() -> FakeLlm:
    return FakeLlm(API_KEY)


@pytest.fixture
async def llm_server(fake: FakeLlm) -> AsyncIterator[HttpServer]:
    async with serve_http(fake.handle) as server:
        yield server


def ollama_settings(server: HttpServer, model: str = "llama3.2", **fields: Any) -> bytes:
    settings = LLMRunnerSettings.OllamaRunnerSettings(base_url=server.url, model=model, **fields)
    return LLMRunnerSettings(ollama=settings).SerializeToString()


def genai_settings(server: HttpServer, model: str = "gpt-test", **fields: Any) -> bytes:
    settings = LLMRunnerSettings.GenaiRunnerSettings(
        base_url=server.url + "/v1", model=model, **fields
    )
    return LLMRunnerSettings(genai=settings).SerializeToString()


def completion_args(prompt: str = "hello world", **fields: Any) -> bytes:
    return LLMCompletionArgs(prompt=prompt, **fields).SerializeToString()


def chat_args(*messages: tuple[int, str], **fields: Any) -> bytes:
    args = LLMChatArgs(**fields)
    for role, text in messages:
        args.messages.add(role=role).content.text = text  # type: ignore[arg-type]
    return args.SerializeToString()


async def loaded(
    runner_class: type[LlmCompletionRunner] | type[LlmChatRunner],
    settings: bytes,
    api_key: str | None = API_KEY,
    read_timeout_s: float = 5,
) -> Any:
    runner = runner_class(
        openai_api_key=api_key, connect_timeout_s=5, read_timeout_s=read_timeout_s
    )
    await runner.load(settings)
    return runner


async def complete(settings: bytes, args: bytes, **options: Any) -> LLMCompletionResult:
    runner = await loaded(LlmCompletionRunner, settings, **options)
    try:
        return LLMCompletionResult.FromString(await runner.run(args, {}))
    finally:
        await runner.close()


async def complete_stream(settings: bytes, args: bytes) -> list[LLMCompletionResult]:
    runner = await loaded(LlmCompletionRunner, settings)
    try:
        return [LLMCompletionResult.FromString(c) async for c in runner.run_stream(args, {})]
    finally:
        await runner.close()


async def chat(settings: bytes, args: bytes, **options: Any) -> LLMChatResult:
    runner = await loaded(LlmChatRunner, settings, **options)
    try:
        return LLMChatResult.FromString(await runner.run(args, {}))
    finally:
        await runner.close()


async def chat_stream(settings: bytes, args: bytes) -> list[LLMChatResult]:
    runner = await loaded(LlmChatRunner, settings)
    try:
        return [LLMChatResult.FromString(c) async for c in runner.run_stream(args, {})]
    finally:
        await runner.close()


# Ollama


async def test_ollama_completion(llm_server: HttpServer) -> None:
    result = await complete(ollama_settings(llm_server), completion_args("hello world"))

    assert result.content.text == "echo: hello world"
    assert result.done
    assert result.usage.model == "llama3.2"
    assert result.usage.prompt_tokens == PROMPT_TOKENS
    assert result.usage.completion_tokens == 3
    assert result.usage.total_prompt_time_sec == pytest.approx(0.25)
    assert result.usage.total_completion_time_sec == pytest.approx(1.5)
    assert list(result.context.ollama.data) == CONTEXT


async def test_ollama_completion_sends_options_system_and_context(llm_server: HttpServer) -> None:
    args = LLMCompletionArgs(prompt="p", system_prompt="be brief", model="other")
    args.options.max_tokens = 20
    args.options.temperature = 0.5
    args.options.repeat_last_n = 4
    args.options.seed = 42
    args.context.ollama_context.data.extend([1, 2])

    await complete(ollama_settings(llm_server, system_prompt="ignored"), args.SerializeToString())

    body = llm_server.requests[-1].json()
    assert body["model"] == "other"
    assert body["system"] == "be brief"
    assert body["context"] == [1, 2]
    assert body["stream"] is False
    assert body["options"] == {
        "num_predict": 20,
        "temperature": 0.5,
        "repeat_last_n": 4,
        "seed": 42,
    }


async def test_ollama_completion_stream(llm_server: HttpServer) -> None:
    results = await complete_stream(ollama_settings(llm_server), completion_args("a b"))

    assert [r.content.text for r in results[:-1]] == ["echo:", " a", " b"]
    assert not any(r.done for r in results[:-1])
    assert not any(r.HasField("usage") for r in results[:-1])
    final = results[-1]
    assert final.done
    assert final.usage.completion_tokens == 3
    assert list(final.context.ollama.data) == CONTEXT
    assert llm_server.requests[-1].json()["stream"] is True


async def test_ollama_chat_with_system_prompt(llm_server: HttpServer) -> None:
    settings = ollama_settings(llm_server, system_prompt="You are terse.")

    result = await chat(settings, chat_args((Role.ROLE_USER, "hi there")))

    assert result.content.text == "echo: hi there"
    assert result.done
    assert result.usage.prompt_tokens == PROMPT_TOKENS
    assert llm_server.requests[-1].json()["messages"] == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "hi there"},
    ]


async def test_ollama_chat_stream(llm_server: HttpServer) -> None:
    results = await chat_stream(ollama_settings(llm_server), chat_args((Role.ROLE_USER, "x y")))

    assert "".join(r.content.text for r in results) == "echo: x y"
    assert results[-1].done
    assert results[-1].usage.completion_tokens == 3


async def test_ollama_chat_image_base64(llm_server: HttpServer) -> None:
    args = LLMChatArgs()
    image = args.messages.add(role=Role.ROLE_USER).content.image
    image.content_type = "image/png"
    image.source.base64 = "aGVsbG8="

    await chat(ollama_settings(llm_server), args.SerializeToString())

    assert llm_server.requests[-1].json()["messages"][0]["images"] == ["aGVsbG8="]


async def test_ollama_chat_image_url_rejected(llm_server: HttpServer) -> None:
    args = LLMChatArgs()
    image = args.messages.add(role=Role.ROLE_USER).content.image
    image.source.url = "http://127.0.0.1/cat.png"

    with pytest.raises(RunnerArgumentError, match="Ollama accepts images only as base64"):
        await chat(ollama_settings(llm_server), args.SerializeToString())


async def test_ollama_pull_model_on_load(fake: FakeLlm, llm_server: HttpServer) -> None:
    runner = await loaded(LlmCompletionRunner, ollama_settings(llm_server, pull_model=True))
    await runner.close()

    assert fake.pulled == ["llama3.2"]


async def test_extract_reasoning_content(llm_server: HttpServer) -> None:
    args = LLMCompletionArgs(prompt="/think why")
    args.options.extract_reasoning_content = True

    result = await complete(ollama_settings(llm_server), args.SerializeToString())

    assert result.reasoning_content == "thinking about it"
    assert result.content.text == "echo: why"


# OpenAI-compatible


async def test_genai_completion(llm_server: HttpServer) -> None:
    args = LLMCompletionArgs(prompt="hello")
    args.options.max_tokens = 5
    args.options.top_p = 0.5
    args.options.repeat_penalty = 1.5

    result = await complete(
        genai_settings(llm_server, system_prompt="sys"), args.SerializeToString()
    )

    assert result.content.text == "echo: sys\n\nhello"
    assert result.done
    assert result.usage.model == "gpt-test"
    assert result.usage.prompt_tokens == PROMPT_TOKENS
    request = llm_server.requests[-1]
    assert request.path == "/v1/completions"
    assert request.header("authorization") == f"Bearer {API_KEY}"
    body = request.json()
    assert body["max_tokens"] == 5
    assert body["top_p"] == 0.5
    assert "repeat_penalty" not in body


async def test_genai_completion_stream(llm_server: HttpServer) -> None:
    results = await complete_stream(genai_settings(llm_server), completion_args("a b"))

    assert [r.content.text for r in results[:-1]] == ["echo:", " a", " b"]
    final = results[-1]
    assert final.done
    assert final.usage.completion_tokens == 3
    assert llm_server.requests[-1].json()["stream_options"] == {"include_usage": True}


async def test_genai_chat(llm_server: HttpServer) -> None:
    args = chat_args(
        (Role.ROLE_SYSTEM, "s"), (Role.ROLE_USER, "q"), (Role.ROLE_ASSISTANT, "a"), model="m2"
    )

    result = await chat(genai_settings(llm_server, system_prompt="unused"), args)

    assert result.content.text == "echo: q"
    assert result.usage.model == "m2"
    body = llm_server.requests[-1].json()
    assert [m["role"] for m in body["messages"]] == ["system", "user", "assistant"]


async def test_genai_chat_stream(llm_server: HttpServer) -> None:
    results = await chat_stream(genai_settings(llm_server), chat_args((Role.ROLE_USER, "1 2 3")))

    assert [r.content.text for r in results[:-1]] == ["echo:", " 1", " 2", " 3"]
    assert results[-1].done
    assert results[-1].usage.completion_tokens == 4


async def test_genai_chat_image_url(llm_server: HttpServer) -> None:
    args = LLMChatArgs()
    image = args.messages.add(role=Role.ROLE_USER).content.image
    image.source.url = "https://127.0.0.1/cat.png"

    await chat(genai_settings(llm_server), args.SerializeToString())

    content = llm_server.requests[-1].json()["messages"][0]["content"]
    assert content == [{"type": "image_url", "image_url": {"url": "https://127.0.0.1/cat.png"}}]


async def test_wrong_api_key_is_argument_error_without_key(llm_server: HttpServer) -> None:
    with pytest.raises(RunnerArgumentError, match="HTTP 401") as caught:
        await complete(genai_settings(llm_server), completion_args(), api_key="sk-wrong-secret")

    assert "sk-wrong-secret" not in str(caught.value)
    assert "Incorrect API key provided: <api key>" in str(caught.value)


# Failures


@pytest.mark.parametrize("settings_of", [ollama_settings, genai_settings])
async def test_unknown_model_is_argument_error(llm_server: HttpServer, settings_of: Any) -> None:
    with pytest.raises(RunnerArgumentError, match="HTTP 404: model 'missing' not found"):
        await complete(settings_of(llm_server, model="missing"), completion_args())


@pytest.mark.parametrize("settings_of", [ollama_settings, genai_settings])
async def test_server_error_is_retryable(llm_server: HttpServer, settings_of: Any) -> None:
    with pytest.raises(RetryableRunnerError, match="HTTP 500: the model runner crashed"):
        await chat(settings_of(llm_server, model="crash"), chat_args((Role.ROLE_USER, "x")))


@pytest.mark.parametrize("settings_of", [ollama_settings, genai_settings])
async def test_error_inside_stream_is_retryable(llm_server: HttpServer, settings_of: Any) -> None:
    runner = await loaded(LlmChatRunner, settings_of(llm_server, model="broken-stream"))
    received: list[bytes] = []
    try:
        with pytest.raises(RetryableRunnerError, match="the model runner stopped"):
            async for chunk in runner.run_stream(chat_args((Role.ROLE_USER, "a b")), {}):
                received.append(chunk)
    finally:
        await runner.close()

    assert LLMChatResult.FromString(received[0]).content.text == "echo:"


async def test_read_timeout_is_retryable(llm_server: HttpServer) -> None:
    with pytest.raises(RetryableRunnerError, match="timed out"):
        await complete(
            ollama_settings(llm_server, model="slow"), completion_args(), read_timeout_s=0.2
        )


async def test_connection_refused_is_retryable() -> None:
    async with serve_http(FakeLlm().handle) as server:
        settings = ollama_settings(server)
    with pytest.raises(RetryableRunnerError, match="ConnectError"):
        await complete(settings, completion_args())


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (LLMRunnerSettings(), "neither `ollama` nor `genai`"),
        (
            LLMRunnerSettings(ollama=LLMRunnerSettings.OllamaRunnerSettings(model=" ")),
            "ollama.model is empty",
        ),
        (LLMRunnerSettings(genai=LLMRunnerSettings.GenaiRunnerSettings()), "genai.model is empty"),
        (
            LLMRunnerSettings(
                genai=LLMRunnerSettings.GenaiRunnerSettings(model="m", base_url="localhost:1")
            ),
            "genai.base_url 'localhost:1' is not an absolute http or https URL",
        ),
    ],
)
async def test_bad_settings_rejected_at_load(settings: LLMRunnerSettings, message: str) -> None:
    runner = LlmCompletionRunner(openai_api_key=None, connect_timeout_s=1, read_timeout_s=1)
    with pytest.raises(RunnerArgumentError, match=message):
        await runner.load(settings.SerializeToString())


async def test_default_base_urls() -> None:
    for settings, url in [
        (LLMRunnerSettings.OllamaRunnerSettings(model="m"), "http://localhost:11434"),
        (LLMRunnerSettings.GenaiRunnerSettings(model="m"), "https://api.openai.com/v1"),
    ]:
        message = LLMRunnerSettings()
        getattr(message, "ollama" if url.endswith("11434") else "genai").CopyFrom(settings)
        runner = LlmChatRunner(openai_api_key=None, connect_timeout_s=1, read_timeout_s=1)
        await runner.load(message.SerializeToString())
        assert runner.backend().client.base_url == url
        await runner.close()


def function_calling_completion() -> bytes:
    args = LLMCompletionArgs(prompt="x")
    args.function_options.use_function_calling = True
    return args.SerializeToString()


def function_calling_chat() -> bytes:
    args = LLMChatArgs()
    args.messages.add(role=Role.ROLE_USER).content.text = "x"
    args.function_options.function_set_name = "tools"
    return args.SerializeToString()


def tool_message_chat() -> bytes:
    args = LLMChatArgs()
    args.messages.add(role=Role.ROLE_TOOL).content.text = "42"
    return args.SerializeToString()


@pytest.mark.parametrize(
    ("runner_class", "args", "message"),
    [
        (LlmCompletionRunner, function_calling_completion(), "function_options"),
        (LlmCompletionRunner, completion_args(""), "prompt is empty"),
        (LlmChatRunner, function_calling_chat(), "function_options"),
        (LlmChatRunner, chat_args(), "messages is empty"),
        (LlmChatRunner, tool_message_chat(), r"messages\[0\] has role ROLE_TOOL"),
        (LlmChatRunner, b"\x2a\x02\x08", "job args for runner LLM_CHAT"),
    ],
)
async def test_bad_args_rejected(
    llm_server: HttpServer, runner_class: Any, args: bytes, message: str
) -> None:
    runner = await loaded(runner_class, ollama_settings(llm_server))
    try:
        with pytest.raises(RunnerArgumentError, match=message):
            await runner.run(args, {})
    finally:
        await runner.close()
    assert llm_server.requests == []


# End to end through a server


async def test_job_chat_and_completion(tmp_path: Path, llm_server: HttpServer) -> None:
    async with server_stubs(tmp_path, openai_api_key=API_KEY) as stubs:
        chat_result = await run_job(
            stubs,
            common_pb2.RunnerType.LLM_CHAT,
            genai_settings(llm_server),
            chat_args((Role.ROLE_USER, "from a job")),
        )
        completion = await run_job(
            stubs,
            common_pb2.RunnerType.LLM_COMPLETION,
            ollama_settings(llm_server),
            completion_args("job prompt"),
        )

    assert chat_result.status == common_pb2.SUCCESS
    assert LLMChatResult.FromString(chat_result.output.items).content.text == "echo: from a job"
    assert completion.status == common_pb2.SUCCESS
    text = LLMCompletionResult.FromString(completion.output.items).content.text
    assert text == "echo: job prompt"


async def test_job_timeout_ends_in_max_retry(tmp_path: Path, llm_server: HttpServer) -> None:
    async with server_stubs(tmp_path) as stubs:
        result = await run_job(
            stubs,
            common_pb2.RunnerType.LLM_COMPLETION,
            ollama_settings(llm_server, model="slow"),
            completion_args(),
            timeout_ms=300,
        )

    assert result.status == common_pb2.MAX_RETRY
    assert "timed out after 300 ms" in output_text(result)
