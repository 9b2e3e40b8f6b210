from jwp.proto.jobworkerp.data import common_pb2 as _common_pb2
from jwp.proto.jobworkerp.data import runner_pb2 as _runner_pb2
from jwp.proto.jobworkerp.service import common_pb2 as _common_pb2_1
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateRunnerRequest(_message.Message):
    __slots__ = ("name", "description", "runner_type", "definition")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    RUNNER_TYPE_FIELD_NUMBER: _ClassVar[int]
    DEFINITION_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    runner_type: _common_pb2.RunnerType
    definition: str
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., runner_type: _Optional[_Union[_common_pb2.RunnerType, str]] = ..., definition: _Optional[str] = ...) -> None: ...

class CreateRunnerResponse(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: _runner_pb2.RunnerId
    def __init__(self, id: _Optional[_Union[_runner_pb2.RunnerId, _Mapping]] = ...) -> None: ...

class OptionalRunnerResponse(_message.Message):
    __slots__ = ("data",)
    DATA_FIELD_NUMBER: _ClassVar[int]
    data: _runner_pb2.Runner
    def __init__(self, data: _Optional[_Union[_runner_pb2.Runner, _Mapping]] = ...) -> None: ...

class RunnerNameRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...
