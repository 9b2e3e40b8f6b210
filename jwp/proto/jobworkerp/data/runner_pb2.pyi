from jwp.proto.jobworkerp.data import common_pb2 as _common_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StreamingOutputType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NON_STREAMING: _ClassVar[StreamingOutputType]
    STREAMING: _ClassVar[StreamingOutputType]
    BOTH: _ClassVar[StreamingOutputType]
NON_STREAMING: StreamingOutputType
STREAMING: StreamingOutputType
BOTH: StreamingOutputType

class RunnerId(_message.Message):
    __slots__ = ("value",)
    VALUE_FIELD_NUMBER: _ClassVar[int]
    value: int
    def __init__(self, value: _Optional[int] = ...) -> None: ...

class RunnerData(_message.Message):
    __slots__ = ("name", "description", "runner_type", "runner_settings_proto", "job_args_proto", "result_output_proto", "output_type", "definition")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    RUNNER_TYPE_FIELD_NUMBER: _ClassVar[int]
    RUNNER_SETTINGS_PROTO_FIELD_NUMBER: _ClassVar[int]
    JOB_ARGS_PROTO_FIELD_NUMBER: _ClassVar[int]
    RESULT_OUTPUT_PROTO_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TYPE_FIELD_NUMBER: _ClassVar[int]
    DEFINITION_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    runner_type: _common_pb2.RunnerType
    runner_settings_proto: str
    job_args_proto: str
    result_output_proto: str
    output_type: StreamingOutputType
    definition: str
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., runner_type: _Optional[_Union[_common_pb2.RunnerType, str]] = ..., runner_settings_proto: _Optional[str] = ..., job_args_proto: _Optional[str] = ..., result_output_proto: _Optional[str] = ..., output_type: _Optional[_Union[StreamingOutputType, str]] = ..., definition: _Optional[str] = ...) -> None: ...

class Runner(_message.Message):
    __slots__ = ("id", "data")
    ID_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    id: RunnerId
    data: RunnerData
    def __init__(self, id: _Optional[_Union[RunnerId, _Mapping]] = ..., data: _Optional[_Union[RunnerData, _Mapping]] = ...) -> None: ...
