from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class ReusableWorkflowArgs(_message.Message):
    __slots__ = ("input", "workflow_context", "execution_id")
    INPUT_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_CONTEXT_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    input: str
    workflow_context: str
    execution_id: str
    def __init__(self, input: _Optional[str] = ..., workflow_context: _Optional[str] = ..., execution_id: _Optional[str] = ...) -> None: ...
