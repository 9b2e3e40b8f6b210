from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WorkflowResult(_message.Message):
    __slots__ = ("id", "output", "position", "status", "error_message")
    class WorkflowStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        Completed: _ClassVar[WorkflowResult.WorkflowStatus]
        Faulted: _ClassVar[WorkflowResult.WorkflowStatus]
        Cancelled: _ClassVar[WorkflowResult.WorkflowStatus]
        Pending: _ClassVar[WorkflowResult.WorkflowStatus]
        Running: _ClassVar[WorkflowResult.WorkflowStatus]
        Waiting: _ClassVar[WorkflowResult.WorkflowStatus]
    Completed: WorkflowResult.WorkflowStatus
    Faulted: WorkflowResult.WorkflowStatus
    Cancelled: WorkflowResult.WorkflowStatus
    Pending: WorkflowResult.WorkflowStatus
    Running: WorkflowResult.WorkflowStatus
    Waiting: WorkflowResult.WorkflowStatus
    ID_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    id: str
    output: str
    position: str
    status: WorkflowResult.WorkflowStatus
    error_message: str
    def __init__(self, id: _Optional[str] = ..., output: _Optional[str] = ..., position: _Optional[str] = ..., status: _Optional[_Union[WorkflowResult.WorkflowStatus, str]] = ..., error_message: _Optional[str] = ...) -> None: ...
