from jwp.proto.jobworkerp.data import job_pb2 as _job_pb2
from jwp.proto.jobworkerp.service import job_pb2 as _job_pb2_1
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EnqueueBatchRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[_job_pb2_1.JobRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[_job_pb2_1.JobRequest, _Mapping]]] = ...) -> None: ...

class EnqueueBatchItem(_message.Message):
    __slots__ = ("id", "error")
    ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    id: _job_pb2.JobId
    error: EnqueueBatchError
    def __init__(self, id: _Optional[_Union[_job_pb2.JobId, _Mapping]] = ..., error: _Optional[_Union[EnqueueBatchError, _Mapping]] = ...) -> None: ...

class EnqueueBatchError(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class EnqueueBatchResponse(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[EnqueueBatchItem]
    def __init__(self, items: _Optional[_Iterable[_Union[EnqueueBatchItem, _Mapping]]] = ...) -> None: ...
