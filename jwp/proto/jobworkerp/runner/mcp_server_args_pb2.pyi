from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class McpServerArgs(_message.Message):
    __slots__ = ("tool_name", "arg_json")
    TOOL_NAME_FIELD_NUMBER: _ClassVar[int]
    ARG_JSON_FIELD_NUMBER: _ClassVar[int]
    tool_name: str
    arg_json: str
    def __init__(self, tool_name: _Optional[str] = ..., arg_json: _Optional[str] = ...) -> None: ...
