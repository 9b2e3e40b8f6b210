from jwp.proto.jobworkerp.data import common_pb2 as _common_pb2
from jwp.proto.jobworkerp.data import job_pb2 as _job_pb2
from jwp.proto.jobworkerp.data import worker_pb2 as _worker_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class JobResultId(_message.Message):
    __slots__ = ("value",)
    VALUE_FIELD_NUMBER: _ClassVar[int]
    value: int
    def __init__(self, value: _Optional[int] = ...) -> None: ...

class JobResultData(_message.Message):
    __slots__ = ("job_id", "worker_id", "worker_name", "args", "uniq_key", "status", "output", "retried", "max_retry", "priority", "timeout", "request_streaming", "enqueue_time", "run_after_time", "start_time", "end_time", "response_type", "store_success", "store_failure")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    WORKER_NAME_FIELD_NUMBER: _ClassVar[int]
    ARGS_FIELD_NUMBER: _ClassVar[int]
    UNIQ_KEY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    RETRIED_FIELD_NUMBER: _ClassVar[int]
    MAX_RETRY_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_STREAMING_FIELD_NUMBER: _ClassVar[int]
    ENQUEUE_TIME_FIELD_NUMBER: _ClassVar[int]
    RUN_AFTER_TIME_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_TYPE_FIELD_NUMBER: _ClassVar[int]
    STORE_SUCCESS_FIELD_NUMBER: _ClassVar[int]
    STORE_FAILURE_FIELD_NUMBER: _ClassVar[int]
    job_id: _job_pb2.JobId
    worker_id: _worker_pb2.WorkerId
    worker_name: str
    args: bytes
    uniq_key: str
    status: _common_pb2.ResultStatus
    output: _common_pb2.ResultOutput
    retried: int
    max_retry: int
    priority: _common_pb2.Priority
    timeout: int
    request_streaming: bool
    enqueue_time: int
    run_after_time: int
    start_time: int
    end_time: int
    response_type: _common_pb2.ResponseType
    store_success: bool
    store_failure: bool
    def __init__(self, job_id: _Optional[_Union[_job_pb2.JobId, _Mapping]] = ..., worker_id: _Optional[_Union[_worker_pb2.WorkerId, _Mapping]] = ..., worker_name: _Optional[str] = ..., args: _Optional[bytes] = ..., uniq_key: _Optional[str] = ..., status: _Optional[_Union[_common_pb2.ResultStatus, str]] = ..., output: _Optional[_Union[_common_pb2.ResultOutput, _Mapping]] = ..., retried: _Optional[int] = ..., max_retry: _Optional[int] = ..., priority: _Optional[_Union[_common_pb2.Priority, str]] = ..., timeout: _Optional[int] = ..., request_streaming: _Optional[bool] = ..., enqueue_time: _Optional[int] = ..., run_after_time: _Optional[int] = ..., start_time: _Optional[int] = ..., end_time: _Optional[int] = ..., response_type: _Optional[_Union[_common_pb2.ResponseType, str]] = ..., store_success: _Optional[bool] = ..., store_failure: _Optional[bool] = ...) -> None: ...

class JobResult(_message.Message):
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
    id: JobResultId
    data: JobResultData
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, id: _Optional[_Union[JobResultId, _Mapping]] = ..., data: _Optional[_Union[JobResultData, _Mapping]] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...
