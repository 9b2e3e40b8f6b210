from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class ResultStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SUCCESS: _ClassVar[ResultStatus]
    ERROR_AND_RETRY: _ClassVar[ResultStatus]
    FATAL_ERROR: _ClassVar[ResultStatus]
    ABORT: _ClassVar[ResultStatus]
    MAX_RETRY: _ClassVar[ResultStatus]
    OTHER_ERROR: _ClassVar[ResultStatus]
    CANCELLED: _ClassVar[ResultStatus]
SUCCESS: ResultStatus
ERROR_AND_RETRY: ResultStatus
FATAL_ERROR: ResultStatus
ABORT: ResultStatus
MAX_RETRY: ResultStatus
OTHER_ERROR: ResultStatus
CANCELLED: ResultStatus

class ResultOutput(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, items: _Optional[_Iterable[bytes]] = ...) -> None: ...

class Empty(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
