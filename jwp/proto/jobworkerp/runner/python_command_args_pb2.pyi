from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class PythonCommandArgs(_message.Message):
    __slots__ = ("env_vars", "script_content", "script_url", "data_body", "data_url", "with_stderr")
    class EnvVarsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ENV_VARS_FIELD_NUMBER: _ClassVar[int]
    SCRIPT_CONTENT_FIELD_NUMBER: _ClassVar[int]
    SCRIPT_URL_FIELD_NUMBER: _ClassVar[int]
    DATA_BODY_FIELD_NUMBER: _ClassVar[int]
    DATA_URL_FIELD_NUMBER: _ClassVar[int]
    WITH_STDERR_FIELD_NUMBER: _ClassVar[int]
    env_vars: _containers.ScalarMap[str, str]
    script_content: str
    script_url: str
    data_body: str
    data_url: str
    with_stderr: bool
    def __init__(self, env_vars: _Optional[_Mapping[str, str]] = ..., script_content: _Optional[str] = ..., script_url: _Optional[str] = ..., data_body: _Optional[str] = ..., data_url: _Optional[str] = ..., with_stderr: _Optional[bool] = ...) -> None: ...
