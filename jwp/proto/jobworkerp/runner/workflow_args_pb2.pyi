from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class InlineWorkflowArgs(_message.Message):
    __slots__ = ("workflow_url", "workflow_data", "input", "workflow_context", "execution_id")
    WORKFLOW_URL_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_DATA_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_CONTEXT_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    workflow_url: str
    workflow_data: str
    input: str
    workflow_context: str
    execution_id: str
    def __init__(self, workflow_url: _Optional[str] = ..., workflow_data: _Optional[str] = ..., input: _Optional[str] = ..., workflow_context: _Optional[str] = ..., execution_id: _Optional[str] = ...) -> None: ...
