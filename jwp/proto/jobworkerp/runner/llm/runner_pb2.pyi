from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LLMRunnerSettings(_message.Message):
    __slots__ = ("ollama", "genai")
    class OllamaRunnerSettings(_message.Message):
        __slots__ = ("base_url", "model", "system_prompt", "pull_model")
        BASE_URL_FIELD_NUMBER: _ClassVar[int]
        MODEL_FIELD_NUMBER: _ClassVar[int]
        SYSTEM_PROMPT_FIELD_NUMBER: _ClassVar[int]
        PULL_MODEL_FIELD_NUMBER: _ClassVar[int]
        base_url: str
        model: str
        system_prompt: str
        pull_model: bool
        def __init__(self, base_url: _Optional[str] = ..., model: _Optional[str] = ..., system_prompt: _Optional[str] = ..., pull_model: _Optional[bool] = ...) -> None: ...
    class GenaiRunnerSettings(_message.Message):
        __slots__ = ("model", "system_prompt", "base_url")
        MODEL_FIELD_NUMBER: _ClassVar[int]
        SYSTEM_PROMPT_FIELD_NUMBER: _ClassVar[int]
        BASE_URL_FIELD_NUMBER: _ClassVar[int]
        model: str
        system_prompt: str
        base_url: str
        def __init__(self, model: _Optional[str] = ..., system_prompt: _Optional[str] = ..., base_url: _Optional[str] = ...) -> None: ...
    OLLAMA_FIELD_NUMBER: _ClassVar[int]
    GENAI_FIELD_NUMBER: _ClassVar[int]
    ollama: LLMRunnerSettings.OllamaRunnerSettings
    genai: LLMRunnerSettings.GenaiRunnerSettings
    def __init__(self, ollama: _Optional[_Union[LLMRunnerSettings.OllamaRunnerSettings, _Mapping]] = ..., genai: _Optional[_Union[LLMRunnerSettings.GenaiRunnerSettings, _Mapping]] = ...) -> None: ...
