from jwp.proto.jobworkerp.data import common_pb2 as _common_pb2
from jwp.proto.jobworkerp.data import job_pb2 as _job_pb2
from jwp.proto.jobworkerp.data import job_result_pb2 as _job_result_pb2
from jwp.proto.jobworkerp.data import worker_pb2 as _worker_pb2
from jwp.proto.jobworkerp.service import common_pb2 as _common_pb2_1
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateJobResponse(_message.Message):
    __slots__ = ("id", "result")
    ID_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    id: _job_pb2.JobId
    result: _job_result_pb2.JobResult
    def __init__(self, id: _Optional[_Union[_job_pb2.JobId, _Mapping]] = ..., result: _Optional[_Union[_job_result_pb2.JobResult, _Mapping]] = ...) -> None: ...

class OptionalJobResponse(_message.Message):
    __slots__ = ("data",)
    DATA_FIELD_NUMBER: _ClassVar[int]
    data: _job_pb2.Job
    def __init__(self, data: _Optional[_Union[_job_pb2.Job, _Mapping]] = ...) -> None: ...

class JobRequest(_message.Message):
    __slots__ = ("worker_id", "worker_name", "args", "uniq_key", "run_after_time", "priority", "timeout")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    WORKER_NAME_FIELD_NUMBER: _ClassVar[int]
    ARGS_FIELD_NUMBER: _ClassVar[int]
    UNIQ_KEY_FIELD_NUMBER: _ClassVar[int]
    RUN_AFTER_TIME_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    worker_id: _worker_pb2.WorkerId
    worker_name: str
    args: bytes
    uniq_key: str
    run_after_time: int
    priority: _common_pb2.Priority
    timeout: int
    def __init__(self, worker_id: _Optional[_Union[_worker_pb2.WorkerId, _Mapping]] = ..., worker_name: _Optional[str] = ..., args: _Optional[bytes] = ..., uniq_key: _Optional[str] = ..., run_after_time: _Optional[int] = ..., priority: _Optional[_Union[_common_pb2.Priority, str]] = ..., timeout: _Optional[int] = ...) -> None: ...

class FindQueueListRequest(_message.Message):
    __slots__ = ("limit", "channel")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    limit: int
    channel: str
    def __init__(self, limit: _Optional[int] = ..., channel: _Optional[str] = ...) -> None: ...

class JobAndStatus(_message.Message):
    __slots__ = ("job", "status")
    JOB_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    job: _job_pb2.Job
    status: _common_pb2.JobStatus
    def __init__(self, job: _Optional[_Union[_job_pb2.Job, _Mapping]] = ..., status: _Optional[_Union[_common_pb2.JobStatus, str]] = ...) -> None: ...

class JobStatusResponse(_message.Message):
    __slots__ = ("id", "status")
    ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    id: _job_pb2.JobId
    status: _common_pb2.JobStatus
    def __init__(self, id: _Optional[_Union[_job_pb2.JobId, _Mapping]] = ..., status: _Optional[_Union[_common_pb2.JobStatus, str]] = ...) -> None: ...

class OptionalJobStatusResponse(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: _common_pb2.JobStatus
    def __init__(self, status: _Optional[_Union[_common_pb2.JobStatus, str]] = ...) -> None: ...

class JobRestoreRequest(_message.Message):
    __slots__ = ("include_grabbed", "limit")
    INCLUDE_GRABBED_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    include_grabbed: bool
    limit: int
    def __init__(self, include_grabbed: _Optional[bool] = ..., limit: _Optional[int] = ...) -> None: ...
