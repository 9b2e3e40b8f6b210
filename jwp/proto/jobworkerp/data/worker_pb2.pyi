from jwp.proto.jobworkerp.data import common_pb2 as _common_pb2
from jwp.proto.jobworkerp.data import runner_pb2 as _runner_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WorkerId(_message.Message):
    __slots__ = ("value",)
    VALUE_FIELD_NUMBER: _ClassVar[int]
    value: int
    def __init__(self, value: _Optional[int] = ...) -> None: ...

class WorkerData(_message.Message):
    __slots__ = ("name", "description", "runner_id", "runner_settings", "retry_policy", "periodic_interval", "channel", "queue_type", "response_type", "store_success", "store_failure", "next_workers", "use_static", "broadcast_results")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    RUNNER_ID_FIELD_NUMBER: _ClassVar[int]
    RUNNER_SETTINGS_FIELD_NUMBER: _ClassVar[int]
    RETRY_POLICY_FIELD_NUMBER: _ClassVar[int]
    PERIODIC_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    QUEUE_TYPE_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_TYPE_FIELD_NUMBER: _ClassVar[int]
    STORE_SUCCESS_FIELD_NUMBER: _ClassVar[int]
    STORE_FAILURE_FIELD_NUMBER: _ClassVar[int]
    NEXT_WORKERS_FIELD_NUMBER: _ClassVar[int]
    USE_STATIC_FIELD_NUMBER: _ClassVar[int]
    BROADCAST_RESULTS_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    runner_id: _runner_pb2.RunnerId
    runner_settings: bytes
    retry_policy: _common_pb2.RetryPolicy
    periodic_interval: int
    channel: str
    queue_type: _common_pb2.QueueType
    response_type: _common_pb2.ResponseType
    store_success: bool
    store_failure: bool
    next_workers: _containers.RepeatedCompositeFieldContainer[WorkerId]
    use_static: bool
    broadcast_results: bool
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., runner_id: _Optional[_Union[_runner_pb2.RunnerId, _Mapping]] = ..., runner_settings: _Optional[bytes] = ..., retry_policy: _Optional[_Union[_common_pb2.RetryPolicy, _Mapping]] = ..., periodic_interval: _Optional[int] = ..., channel: _Optional[str] = ..., queue_type: _Optional[_Union[_common_pb2.QueueType, str]] = ..., response_type: _Optional[_Union[_common_pb2.ResponseType, str]] = ..., store_success: _Optional[bool] = ..., store_failure: _Optional[bool] = ..., next_workers: _Optional[_Iterable[_Union[WorkerId, _Mapping]]] = ..., use_static: _Optional[bool] = ..., broadcast_results: _Optional[bool] = ...) -> None: ...

class Worker(_message.Message):
    __slots__ = ("id", "data")
    ID_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    id: WorkerId
    data: WorkerData
    def __init__(self, id: _Optional[_Union[WorkerId, _Mapping]] = ..., data: _Optional[_Union[WorkerData, _Mapping]] = ...) -> None: ...
