from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LLMChatArgs(_message.Message):
    __slots__ = ("model", "options", "function_options", "messages")
    class ChatRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        ROLE_UNSPECIFIED: _ClassVar[LLMChatArgs.ChatRole]
        ROLE_SYSTEM: _ClassVar[LLMChatArgs.ChatRole]
        ROLE_USER: _ClassVar[LLMChatArgs.ChatRole]
        ROLE_ASSISTANT: _ClassVar[LLMChatArgs.ChatRole]
        ROLE_TOOL: _ClassVar[LLMChatArgs.ChatRole]
    ROLE_UNSPECIFIED: LLMChatArgs.ChatRole
    ROLE_SYSTEM: LLMChatArgs.ChatRole
    ROLE_USER: LLMChatArgs.ChatRole
    ROLE_ASSISTANT: LLMChatArgs.ChatRole
    ROLE_TOOL: LLMChatArgs.ChatRole
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
    class MessageContent(_message.Message):
        __slots__ = ("text", "image", "tool_calls")
        class ImageSource(_message.Message):
            __slots__ = ("url", "base64")
            URL_FIELD_NUMBER: _ClassVar[int]
            BASE64_FIELD_NUMBER: _ClassVar[int]
            url: str
            base64: str
            def __init__(self, url: _Optional[str] = ..., base64: _Optional[str] = ...) -> None: ...
        class Image(_message.Message):
            __slots__ = ("content_type", "source")
            CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
            SOURCE_FIELD_NUMBER: _ClassVar[int]
            content_type: str
            source: LLMChatArgs.MessageContent.ImageSource
            def __init__(self, content_type: _Optional[str] = ..., source: _Optional[_Union[LLMChatArgs.MessageContent.ImageSource, _Mapping]] = ...) -> None: ...
        class ToolCall(_message.Message):
            __slots__ = ("call_id", "fn_name", "fn_arguments")
            CALL_ID_FIELD_NUMBER: _ClassVar[int]
            FN_NAME_FIELD_NUMBER: _ClassVar[int]
            FN_ARGUMENTS_FIELD_NUMBER: _ClassVar[int]
            call_id: str
            fn_name: str
            fn_arguments: str
            def __init__(self, call_id: _Optional[str] = ..., fn_name: _Optional[str] = ..., fn_arguments: _Optional[str] = ...) -> None: ...
        class ToolCalls(_message.Message):
            __slots__ = ("calls",)
            CALLS_FIELD_NUMBER: _ClassVar[int]
            calls: _containers.RepeatedCompositeFieldContainer[LLMChatArgs.MessageContent.ToolCall]
            def __init__(self, calls: _Optional[_Iterable[_Union[LLMChatArgs.MessageContent.ToolCall, _Mapping]]] = ...) -> None: ...
        TEXT_FIELD_NUMBER: _ClassVar[int]
        IMAGE_FIELD_NUMBER: _ClassVar[int]
        TOOL_CALLS_FIELD_NUMBER: _ClassVar[int]
        text: str
        image: LLMChatArgs.MessageContent.Image
        tool_calls: LLMChatArgs.MessageContent.ToolCalls
        def __init__(self, text: _Optional[str] = ..., image: _Optional[_Union[LLMChatArgs.MessageContent.Image, _Mapping]] = ..., tool_calls: _Optional[_Union[LLMChatArgs.MessageContent.ToolCalls, _Mapping]] = ...) -> None: ...
    class ChatMessage(_message.Message):
        __slots__ = ("role", "content")
        ROLE_FIELD_NUMBER: _ClassVar[int]
        CONTENT_FIELD_NUMBER: _ClassVar[int]
        role: LLMChatArgs.ChatRole
        content: LLMChatArgs.MessageContent
        def __init__(self, role: _Optional[_Union[LLMChatArgs.ChatRole, str]] = ..., content: _Optional[_Union[LLMChatArgs.MessageContent, _Mapping]] = ...) -> None: ...
    MODEL_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    model: str
    options: LLMChatArgs.LLMOptions
    function_options: LLMChatArgs.FunctionOptions
    messages: _containers.RepeatedCompositeFieldContainer[LLMChatArgs.ChatMessage]
    def __init__(self, model: _Optional[str] = ..., options: _Optional[_Union[LLMChatArgs.LLMOptions, _Mapping]] = ..., function_options: _Optional[_Union[LLMChatArgs.FunctionOptions, _Mapping]] = ..., messages: _Optional[_Iterable[_Union[LLMChatArgs.ChatMessage, _Mapping]]] = ...) -> None: ...
