from jwp.proto.jobworkerp.data import common_pb2 as _common_pb2
from jwp.proto.jobworkerp.data import worker_pb2 as _worker_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class JobId(_message.Message):
    __slots__ = ("value",)
    VALUE_FIELD_NUMBER: _ClassVar[int]
    value: int
    def __init__(self, value: _Optional[int] = ...) -> None: ...

class JobData(_message.Message):
    __slots__ = ("worker_id", "args", "uniq_key", "enqueue_time", "grabbed_until_time", "run_after_time", "retried", "priority", "timeout", "request_streaming")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    ARGS_FIELD_NUMBER: _ClassVar[int]
    UNIQ_KEY_FIELD_NUMBER: _ClassVar[int]
    ENQUEUE_TIME_FIELD_NUMBER: _ClassVar[int]
    GRABBED_UNTIL_TIME_FIELD_NUMBER: _ClassVar[int]
    RUN_AFTER_TIME_FIELD_NUMBER: _ClassVar[int]
    RETRIED_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_STREAMING_FIELD_NUMBER: _ClassVar[int]
    worker_id: _worker_pb2.WorkerId
    args: bytes
    uniq_key: str
    enqueue_time: int
    grabbed_until_time: int
    run_after_time: int
    retried: int
    priority: _common_pb2.Priority
    timeout: int
    request_streaming: bool
    def __init__(self, worker_id: _Optional[_Union[_worker_pb2.WorkerId, _Mapping]] = ..., args: _Optional[bytes] = ..., uniq_key: _Optional[str] = ..., enqueue_time: _Optional[int] = ..., grabbed_until_time: _Optional[int] = ..., run_after_time: _Optional[int] = ..., retried: _Optional[int] = ..., priority: _Optional[_Union[_common_pb2.Priority, str]] = ..., timeout: _Optional[int] = ..., request_streaming: _Optional[bool] = ...) -> None: ...

class Job(_message.Message):
    __slots__ = ("id", "data", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    id: JobId
    data: JobData
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, id: _Optional[_Union[JobId, _Mapping]] = ..., data: _Optional[_Union[JobData, _Mapping]] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...
