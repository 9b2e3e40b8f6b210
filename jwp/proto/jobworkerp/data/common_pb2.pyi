from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StorageType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STANDALONE: _ClassVar[StorageType]
    SCALABLE: _ClassVar[StorageType]

class RunnerType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PLUGIN: _ClassVar[RunnerType]
    COMMAND: _ClassVar[RunnerType]
    HTTP_REQUEST: _ClassVar[RunnerType]
    GRPC_UNARY: _ClassVar[RunnerType]
    DOCKER: _ClassVar[RunnerType]
    SLACK_POST_MESSAGE: _ClassVar[RunnerType]
    PYTHON_COMMAND: _ClassVar[RunnerType]
    MCP_SERVER: _ClassVar[RunnerType]
    LLM_CHAT: _ClassVar[RunnerType]
    LLM_COMPLETION: _ClassVar[RunnerType]
    INLINE_WORKFLOW: _ClassVar[RunnerType]
    REUSABLE_WORKFLOW: _ClassVar[RunnerType]

class Priority(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PRIORITY_MEDIUM: _ClassVar[Priority]
    PRIORITY_LOW: _ClassVar[Priority]
    PRIORITY_HIGH: _ClassVar[Priority]

class RetryType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NONE: _ClassVar[RetryType]
    EXPONENTIAL: _ClassVar[RetryType]
    LINEAR: _ClassVar[RetryType]
    CONSTANT: _ClassVar[RetryType]

class ResponseType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NO_RESULT: _ClassVar[ResponseType]
    DIRECT: _ClassVar[ResponseType]

class ResultStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SUCCESS: _ClassVar[ResultStatus]
    ERROR_AND_RETRY: _ClassVar[ResultStatus]
    FATAL_ERROR: _ClassVar[ResultStatus]
    ABORT: _ClassVar[ResultStatus]
    MAX_RETRY: _ClassVar[ResultStatus]
    OTHER_ERROR: _ClassVar[ResultStatus]
    CANCELLED: _ClassVar[ResultStatus]

class JobStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PENDING: _ClassVar[JobStatus]
    RUNNING: _ClassVar[JobStatus]
    WAIT_RESULT: _ClassVar[JobStatus]

class QueueType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NORMAL: _ClassVar[QueueType]
    WITH_BACKUP: _ClassVar[QueueType]
    FORCED_RDB: _ClassVar[QueueType]
STANDALONE: StorageType
SCALABLE: StorageType
PLUGIN: RunnerType
COMMAND: RunnerType
HTTP_REQUEST: RunnerType
GRPC_UNARY: RunnerType
DOCKER: RunnerType
SLACK_POST_MESSAGE: RunnerType
PYTHON_COMMAND: RunnerType
MCP_SERVER: RunnerType
LLM_CHAT: RunnerType
LLM_COMPLETION: RunnerType
INLINE_WORKFLOW: RunnerType
REUSABLE_WORKFLOW: RunnerType
PRIORITY_MEDIUM: Priority
PRIORITY_LOW: Priority
PRIORITY_HIGH: Priority
NONE: RetryType
EXPONENTIAL: RetryType
LINEAR: RetryType
CONSTANT: RetryType
NO_RESULT: ResponseType
DIRECT: ResponseType
SUCCESS: ResultStatus
ERROR_AND_RETRY: ResultStatus
FATAL_ERROR: ResultStatus
ABORT: ResultStatus
MAX_RETRY: ResultStatus
OTHER_ERROR: ResultStatus
CANCELLED: ResultStatus
PENDING: JobStatus
RUNNING: JobStatus
WAIT_RESULT: JobStatus
NORMAL: QueueType
WITH_BACKUP: QueueType
FORCED_RDB: QueueType

class Empty(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Trailer(_message.Message):
    __slots__ = ("metadata",)
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    METADATA_FIELD_NUMBER: _ClassVar[int]
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class RetryPolicy(_message.Message):
    __slots__ = ("type", "interval", "max_interval", "max_retry", "basis")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    MAX_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    MAX_RETRY_FIELD_NUMBER: _ClassVar[int]
    BASIS_FIELD_NUMBER: _ClassVar[int]
    type: RetryType
    interval: int
    max_interval: int
    max_retry: int
    basis: float
    def __init__(self, type: _Optional[_Union[RetryType, str]] = ..., interval: _Optional[int] = ..., max_interval: _Optional[int] = ..., max_retry: _Optional[int] = ..., basis: _Optional[float] = ...) -> None: ...

class ResultOutputItem(_message.Message):
    __slots__ = ("data", "end")
    DATA_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    end: Trailer
    def __init__(self, data: _Optional[bytes] = ..., end: _Optional[_Union[Trailer, _Mapping]] = ...) -> None: ...

class ResultOutput(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: bytes
    def __init__(self, items: _Optional[bytes] = ...) -> None: ...
