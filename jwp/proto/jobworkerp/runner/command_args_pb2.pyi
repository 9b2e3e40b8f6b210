from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class CommandArgs(_message.Message):
    __slots__ = ("command", "args", "with_memory_monitoring")
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    ARGS_FIELD_NUMBER: _ClassVar[int]
    WITH_MEMORY_MONITORING_FIELD_NUMBER: _ClassVar[int]
    command: str
    args: _containers.RepeatedScalarFieldContainer[str]
    with_memory_monitoring: bool
    def __init__(self, command: _Optional[str] = ..., args: _Optional[_Iterable[str]] = ..., with_memory_monitoring: _Optional[bool] = ...) -> None: ...
