from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class PythonCommandResult(_message.Message):
    __slots__ = ("exit_code", "output", "output_stderr")
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_STDERR_FIELD_NUMBER: _ClassVar[int]
    exit_code: int
    output: str
    output_stderr: str
    def __init__(self, exit_code: _Optional[int] = ..., output: _Optional[str] = ..., output_stderr: _Optional[str] = ...) -> None: ...
