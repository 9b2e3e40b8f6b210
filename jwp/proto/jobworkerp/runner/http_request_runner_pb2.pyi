from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class HttpRequestRunnerSettings(_message.Message):
    __slots__ = ("base_url",)
    BASE_URL_FIELD_NUMBER: _ClassVar[int]
    base_url: str
    def __init__(self, base_url: _Optional[str] = ...) -> None: ...
