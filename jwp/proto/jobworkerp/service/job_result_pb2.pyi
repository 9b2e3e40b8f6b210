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

class OptionalJobResultResponse(_message.Message):
    __slots__ = ("data",)
    DATA_FIELD_NUMBER: _ClassVar[int]
    data: _job_result_pb2.JobResult
    def __init__(self, data: _Optional[_Union[_job_result_pb2.JobResult, _Mapping]] = ...) -> None: ...

class ListenRequest(_message.Message):
    __slots__ = ("job_id", "worker_id", "worker_name", "timeout")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    WORKER_NAME_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    job_id: _job_pb2.JobId
    worker_id: _worker_pb2.WorkerId
    worker_name: str
    timeout: int
    def __init__(self, job_id: _Optional[_Union[_job_pb2.JobId, _Mapping]] = ..., worker_id: _Optional[_Union[_worker_pb2.WorkerId, _Mapping]] = ..., worker_name: _Optional[str] = ..., timeout: _Optional[int] = ...) -> None: ...

class ListenByWorkerRequest(_message.Message):
    __slots__ = ("worker_id", "worker_name")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    WORKER_NAME_FIELD_NUMBER: _ClassVar[int]
    worker_id: _worker_pb2.WorkerId
    worker_name: str
    def __init__(self, worker_id: _Optional[_Union[_worker_pb2.WorkerId, _Mapping]] = ..., worker_name: _Optional[str] = ...) -> None: ...

class FindListByJobIdRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: _job_pb2.JobId
    def __init__(self, job_id: _Optional[_Union[_job_pb2.JobId, _Mapping]] = ...) -> None: ...
