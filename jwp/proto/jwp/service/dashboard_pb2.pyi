from jwp.proto.jobworkerp.data import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WatchChannelsRequest(_message.Message):
    __slots__ = ("interval_ms", "result_window_s")
    INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    RESULT_WINDOW_S_FIELD_NUMBER: _ClassVar[int]
    interval_ms: int
    result_window_s: int
    def __init__(self, interval_ms: _Optional[int] = ..., result_window_s: _Optional[int] = ...) -> None: ...

class ChannelLoad(_message.Message):
    __slots__ = ("name", "concurrency", "queued", "running", "finished_in_interval", "finished_total")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    FINISHED_IN_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    FINISHED_TOTAL_FIELD_NUMBER: _ClassVar[int]
    name: str
    concurrency: int
    queued: int
    running: int
    finished_in_interval: int
    finished_total: int
    def __init__(self, name: _Optional[str] = ..., concurrency: _Optional[int] = ..., queued: _Optional[int] = ..., running: _Optional[int] = ..., finished_in_interval: _Optional[int] = ..., finished_total: _Optional[int] = ...) -> None: ...

class JobTotals(_message.Message):
    __slots__ = ("pending", "scheduled", "periodic", "running")
    PENDING_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_FIELD_NUMBER: _ClassVar[int]
    PERIODIC_FIELD_NUMBER: _ClassVar[int]
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    pending: int
    scheduled: int
    periodic: int
    running: int
    def __init__(self, pending: _Optional[int] = ..., scheduled: _Optional[int] = ..., periodic: _Optional[int] = ..., running: _Optional[int] = ...) -> None: ...

class ResultCounts(_message.Message):
    __slots__ = ("window_s", "succeeded", "failed", "cancelled", "retried")
    WINDOW_S_FIELD_NUMBER: _ClassVar[int]
    SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    RETRIED_FIELD_NUMBER: _ClassVar[int]
    window_s: int
    succeeded: int
    failed: int
    cancelled: int
    retried: int
    def __init__(self, window_s: _Optional[int] = ..., succeeded: _Optional[int] = ..., failed: _Optional[int] = ..., cancelled: _Optional[int] = ..., retried: _Optional[int] = ...) -> None: ...

class ServerInfo(_message.Message):
    __slots__ = ("version", "storage_type", "uptime_ms")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STORAGE_TYPE_FIELD_NUMBER: _ClassVar[int]
    UPTIME_MS_FIELD_NUMBER: _ClassVar[int]
    version: str
    storage_type: _common_pb2.StorageType
    uptime_ms: int
    def __init__(self, version: _Optional[str] = ..., storage_type: _Optional[_Union[_common_pb2.StorageType, str]] = ..., uptime_ms: _Optional[int] = ...) -> None: ...

class ChannelLoadSnapshot(_message.Message):
    __slots__ = ("time", "interval_ms", "channels", "totals", "results", "server")
    TIME_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    SERVER_FIELD_NUMBER: _ClassVar[int]
    time: int
    interval_ms: int
    channels: _containers.RepeatedCompositeFieldContainer[ChannelLoad]
    totals: JobTotals
    results: ResultCounts
    server: ServerInfo
    def __init__(self, time: _Optional[int] = ..., interval_ms: _Optional[int] = ..., channels: _Optional[_Iterable[_Union[ChannelLoad, _Mapping]]] = ..., totals: _Optional[_Union[JobTotals, _Mapping]] = ..., results: _Optional[_Union[ResultCounts, _Mapping]] = ..., server: _Optional[_Union[ServerInfo, _Mapping]] = ...) -> None: ...
