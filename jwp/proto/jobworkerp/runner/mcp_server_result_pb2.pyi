from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class McpServerResult(_message.Message):
    __slots__ = ("content", "is_error")
    class TextContent(_message.Message):
        __slots__ = ("text",)
        TEXT_FIELD_NUMBER: _ClassVar[int]
        text: str
        def __init__(self, text: _Optional[str] = ...) -> None: ...
    class ImageContent(_message.Message):
        __slots__ = ("data", "mime_type")
        DATA_FIELD_NUMBER: _ClassVar[int]
        MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
        data: str
        mime_type: str
        def __init__(self, data: _Optional[str] = ..., mime_type: _Optional[str] = ...) -> None: ...
    class TextResourceContents(_message.Message):
        __slots__ = ("uri", "mime_type", "text")
        URI_FIELD_NUMBER: _ClassVar[int]
        MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
        TEXT_FIELD_NUMBER: _ClassVar[int]
        uri: str
        mime_type: str
        text: str
        def __init__(self, uri: _Optional[str] = ..., mime_type: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...
    class BlobResourceContents(_message.Message):
        __slots__ = ("uri", "mime_type", "blob")
        URI_FIELD_NUMBER: _ClassVar[int]
        MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
        BLOB_FIELD_NUMBER: _ClassVar[int]
        uri: str
        mime_type: str
        blob: str
        def __init__(self, uri: _Optional[str] = ..., mime_type: _Optional[str] = ..., blob: _Optional[str] = ...) -> None: ...
    class EmbeddedResource(_message.Message):
        __slots__ = ("text", "blob")
        TEXT_FIELD_NUMBER: _ClassVar[int]
        BLOB_FIELD_NUMBER: _ClassVar[int]
        text: McpServerResult.TextResourceContents
        blob: McpServerResult.BlobResourceContents
        def __init__(self, text: _Optional[_Union[McpServerResult.TextResourceContents, _Mapping]] = ..., blob: _Optional[_Union[McpServerResult.BlobResourceContents, _Mapping]] = ...) -> None: ...
    class AudioContent(_message.Message):
        __slots__ = ("data", "mime_type")
        DATA_FIELD_NUMBER: _ClassVar[int]
        MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
        data: str
        mime_type: str
        def __init__(self, data: _Optional[str] = ..., mime_type: _Optional[str] = ...) -> None: ...
    class Content(_message.Message):
        __slots__ = ("text", "image", "audio", "resource")
        TEXT_FIELD_NUMBER: _ClassVar[int]
        IMAGE_FIELD_NUMBER: _ClassVar[int]
        AUDIO_FIELD_NUMBER: _ClassVar[int]
        RESOURCE_FIELD_NUMBER: _ClassVar[int]
        text: McpServerResult.TextContent
        image: McpServerResult.ImageContent
        audio: McpServerResult.AudioContent
        resource: McpServerResult.EmbeddedResource
        def __init__(self, text: _Optional[_Union[McpServerResult.TextContent, _Mapping]] = ..., image: _Optional[_Union[McpServerResult.ImageContent, _Mapping]] = ..., audio: _Optional[_Union[McpServerResult.AudioContent, _Mapping]] = ..., resource: _Optional[_Union[McpServerResult.EmbeddedResource, _Mapping]] = ...) -> None: ...
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    IS_ERROR_FIELD_NUMBER: _ClassVar[int]
    content: _containers.RepeatedCompositeFieldContainer[McpServerResult.Content]
    is_error: bool
    def __init__(self, content: _Optional[_Iterable[_Union[McpServerResult.Content, _Mapping]]] = ..., is_error: _Optional[bool] = ...) -> None: ...
