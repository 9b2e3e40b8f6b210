from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PythonCommandRunnerSettings(_message.Message):
    __slots__ = ("python_version", "uv_path", "packages", "requirements_url")
    class PackagesList(_message.Message):
        __slots__ = ("list",)
        LIST_FIELD_NUMBER: _ClassVar[int]
        list: _containers.RepeatedScalarFieldContainer[str]
        def __init__(self, list: _Optional[_Iterable[str]] = ...) -> None: ...
    PYTHON_VERSION_FIELD_NUMBER: _ClassVar[int]
    UV_PATH_FIELD_NUMBER: _ClassVar[int]
    PACKAGES_FIELD_NUMBER: _ClassVar[int]
    REQUIREMENTS_URL_FIELD_NUMBER: _ClassVar[int]
    python_version: str
    uv_path: str
    packages: PythonCommandRunnerSettings.PackagesList
    requirements_url: str
    def __init__(self, python_version: _Optional[str] = ..., uv_path: _Optional[str] = ..., packages: _Optional[_Union[PythonCommandRunnerSettings.PackagesList, _Mapping]] = ..., requirements_url: _Optional[str] = ...) -> None: ...
