from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class HttpRequestArgs(_message.Message):
    __slots__ = ("headers", "method", "path", "body", "queries")
    class KeyValue(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    headers: _containers.RepeatedCompositeFieldContainer[HttpRequestArgs.KeyValue]
    method: str
    path: str
    body: str
    queries: _containers.RepeatedCompositeFieldContainer[HttpRequestArgs.KeyValue]
    def __init__(self, headers: _Optional[_Iterable[_Union[HttpRequestArgs.KeyValue, _Mapping]]] = ..., method: _Optional[str] = ..., path: _Optional[str] = ..., body: _Optional[str] = ..., queries: _Optional[_Iterable[_Union[HttpRequestArgs.KeyValue, _Mapping]]] = ...) -> None: ...
