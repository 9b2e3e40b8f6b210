from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LLMChatResult(_message.Message):
    __slots__ = ("content", "reasoning_content", "done", "usage")
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
            source: LLMChatResult.MessageContent.ImageSource
            def __init__(self, content_type: _Optional[str] = ..., source: _Optional[_Union[LLMChatResult.MessageContent.ImageSource, _Mapping]] = ...) -> None: ...
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
            calls: _containers.RepeatedCompositeFieldContainer[LLMChatResult.MessageContent.ToolCall]
            def __init__(self, calls: _Optional[_Iterable[_Union[LLMChatResult.MessageContent.ToolCall, _Mapping]]] = ...) -> None: ...
        TEXT_FIELD_NUMBER: _ClassVar[int]
        IMAGE_FIELD_NUMBER: _ClassVar[int]
        TOOL_CALLS_FIELD_NUMBER: _ClassVar[int]
        text: str
        image: LLMChatResult.MessageContent.Image
        tool_calls: LLMChatResult.MessageContent.ToolCalls
        def __init__(self, text: _Optional[str] = ..., image: _Optional[_Union[LLMChatResult.MessageContent.Image, _Mapping]] = ..., tool_calls: _Optional[_Union[LLMChatResult.MessageContent.ToolCalls, _Mapping]] = ...) -> None: ...
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    REASONING_CONTENT_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    content: LLMChatResult.MessageContent
    reasoning_content: str
    done: bool
    usage: LLMChatResult.Usage
    def __init__(self, content: _Optional[_Union[LLMChatResult.MessageContent, _Mapping]] = ..., reasoning_content: _Optional[str] = ..., done: _Optional[bool] = ..., usage: _Optional[_Union[LLMChatResult.Usage, _Mapping]] = ...) -> None: ...
