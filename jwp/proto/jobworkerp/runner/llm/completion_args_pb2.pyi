from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LLMCompletionArgs(_message.Message):
    __slots__ = ("model", "system_prompt", "prompt", "options", "context", "function_options")
    class LLMOptions(_message.Message):
        __slots__ = ("max_tokens", "temperature", "top_p", "repeat_penalty", "repeat_last_n", "seed", "extract_reasoning_content")
        MAX_TOKENS_FIELD_NUMBER: _ClassVar[int]
        TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
        TOP_P_FIELD_NUMBER: _ClassVar[int]
        REPEAT_PENALTY_FIELD_NUMBER: _ClassVar[int]
        REPEAT_LAST_N_FIELD_NUMBER: _ClassVar[int]
        SEED_FIELD_NUMBER: _ClassVar[int]
        EXTRACT_REASONING_CONTENT_FIELD_NUMBER: _ClassVar[int]
        max_tokens: int
        temperature: float
        top_p: float
        repeat_penalty: float
        repeat_last_n: int
        seed: int
        extract_reasoning_content: bool
        def __init__(self, max_tokens: _Optional[int] = ..., temperature: _Optional[float] = ..., top_p: _Optional[float] = ..., repeat_penalty: _Optional[float] = ..., repeat_last_n: _Optional[int] = ..., seed: _Optional[int] = ..., extract_reasoning_content: _Optional[bool] = ...) -> None: ...
    class FunctionOptions(_message.Message):
        __slots__ = ("use_function_calling", "function_set_name", "use_runners_as_function", "use_workers_as_function")
        USE_FUNCTION_CALLING_FIELD_NUMBER: _ClassVar[int]
        FUNCTION_SET_NAME_FIELD_NUMBER: _ClassVar[int]
        USE_RUNNERS_AS_FUNCTION_FIELD_NUMBER: _ClassVar[int]
        USE_WORKERS_AS_FUNCTION_FIELD_NUMBER: _ClassVar[int]
        use_function_calling: bool
        function_set_name: str
        use_runners_as_function: bool
        use_workers_as_function: bool
        def __init__(self, use_function_calling: _Optional[bool] = ..., function_set_name: _Optional[str] = ..., use_runners_as_function: _Optional[bool] = ..., use_workers_as_function: _Optional[bool] = ...) -> None: ...
    class OllamaContext(_message.Message):
        __slots__ = ("data",)
        DATA_FIELD_NUMBER: _ClassVar[int]
        data: _containers.RepeatedScalarFieldContainer[int]
        def __init__(self, data: _Optional[_Iterable[int]] = ...) -> None: ...
    class GenerationContext(_message.Message):
        __slots__ = ("ollama_context",)
        OLLAMA_CONTEXT_FIELD_NUMBER: _ClassVar[int]
        ollama_context: LLMCompletionArgs.OllamaContext
        def __init__(self, ollama_context: _Optional[_Union[LLMCompletionArgs.OllamaContext, _Mapping]] = ...) -> None: ...
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_PROMPT_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    model: str
    system_prompt: str
    prompt: str
    options: LLMCompletionArgs.LLMOptions
    context: LLMCompletionArgs.GenerationContext
    function_options: LLMCompletionArgs.FunctionOptions
    def __init__(self, model: _Optional[str] = ..., system_prompt: _Optional[str] = ..., prompt: _Optional[str] = ..., options: _Optional[_Union[LLMCompletionArgs.LLMOptions, _Mapping]] = ..., context: _Optional[_Union[LLMCompletionArgs.GenerationContext, _Mapping]] = ..., function_options: _Optional[_Union[LLMCompletionArgs.FunctionOptions, _Mapping]] = ...) -> None: ...
