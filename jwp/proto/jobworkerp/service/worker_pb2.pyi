from jwp.proto.jobworkerp.data import common_pb2 as _common_pb2
from jwp.proto.jobworkerp.data import worker_pb2 as _worker_pb2
from jwp.proto.jobworkerp.service import common_pb2 as _common_pb2_1
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateWorkerResponse(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: _worker_pb2.WorkerId
    def __init__(self, id: _Optional[_Union[_worker_pb2.WorkerId, _Mapping]] = ...) -> None: ...

class OptionalWorkerResponse(_message.Message):
    __slots__ = ("data",)
    DATA_FIELD_NUMBER: _ClassVar[int]
    data: _worker_pb2.Worker
    def __init__(self, data: _Optional[_Union[_worker_pb2.Worker, _Mapping]] = ...) -> None: ...

class WorkerNameRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class FindWorkerListRequest(_message.Message):
    __slots__ = ("runner_types", "channel", "limit", "offset")
    RUNNER_TYPES_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    runner_types: _containers.RepeatedScalarFieldContainer[_common_pb2.RunnerType]
    channel: str
    limit: int
    offset: int
    def __init__(self, runner_types: _Optional[_Iterable[_Union[_common_pb2.RunnerType, str]]] = ..., channel: _Optional[str] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ...) -> None: ...

class ChannelInfo(_message.Message):
    __slots__ = ("name", "concurrency")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    name: str
    concurrency: int
    def __init__(self, name: _Optional[str] = ..., concurrency: _Optional[int] = ...) -> None: ...

class FindChannelListResponse(_message.Message):
    __slots__ = ("channels",)
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    channels: _containers.RepeatedCompositeFieldContainer[ChannelInfo]
    def __init__(self, channels: _Optional[_Iterable[_Union[ChannelInfo, _Mapping]]] = ...) -> None: ...
