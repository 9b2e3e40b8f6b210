from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LLMCompletionResult(_message.Message):
    __slots__ = ("content", "reasoning_content", "done", "context", "usage")
    class Usage(_message.Message):
        __slots__ = ("model", "prompt_tokens", "completion_tokens", "total_prompt_time_sec", "total_completion_time_sec")
        MODEL_FIELD_NUMBER: _ClassVar[int]
        PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
        COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
        TOTAL_PROMPT_TIME_SEC_FIELD_NUMBER: _ClassVar[int]
        TOTAL_COMPLETION_TIME_SEC_FIELD_NUMBER: _ClassVar[int]
        model: str
        prompt_tokens: int
        completion_tokens: int
        total_prompt_time_sec: float
        total_completion_time_sec: float
        def __init__(self, model: _Optional[str] = ..., prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ..., total_prompt_time_sec: _Optional[float] = ..., total_completion_time_sec: _Optional[float] = ...) -> None: ...
    class OllamaContext(_message.Message):
        __slots__ = ("data",)
        DATA_FIELD_NUMBER: _ClassVar[int]
        data: _containers.RepeatedScalarFieldContainer[int]
        def __init__(self, data: _Optional[_Iterable[int]] = ...) -> None: ...
    class GenerationContext(_message.Message):
        __slots__ = ("ollama",)
        OLLAMA_FIELD_NUMBER: _ClassVar[int]
        ollama: LLMCompletionResult.OllamaContext
        def __init__(self, ollama: _Optional[_Union[LLMCompletionResult.OllamaContext, _Mapping]] = ...) -> None: ...
    class MessageContent(_message.Message):
        __slots__ = ("text",)
        TEXT_FIELD_NUMBER: _ClassVar[int]
        text: str
        def __init__(self, text: _Optional[str] = ...) -> None: ...
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    REASONING_CONTENT_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    content: LLMCompletionResult.MessageContent
    reasoning_content: str
    done: bool
    context: LLMCompletionResult.GenerationContext
    usage: LLMCompletionResult.Usage
    def __init__(self, content: _Optional[_Union[LLMCompletionResult.MessageContent, _Mapping]] = ..., reasoning_content: _Optional[str] = ..., done: _Optional[bool] = ..., context: _Optional[_Union[LLMCompletionResult.GenerationContext, _Mapping]] = ..., usage: _Optional[_Union[LLMCompletionResult.Usage, _Mapping]] = ...) -> None: ...
