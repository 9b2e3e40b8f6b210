from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class DockerArgs(_message.Message):
    __slots__ = ("image", "user", "exposed_ports", "env", "cmd", "args_escaped", "volumes", "working_dir", "entrypoint", "network_disabled", "mac_address", "shell")
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    EXPOSED_PORTS_FIELD_NUMBER: _ClassVar[int]
    ENV_FIELD_NUMBER: _ClassVar[int]
    CMD_FIELD_NUMBER: _ClassVar[int]
    ARGS_ESCAPED_FIELD_NUMBER: _ClassVar[int]
    VOLUMES_FIELD_NUMBER: _ClassVar[int]
    WORKING_DIR_FIELD_NUMBER: _ClassVar[int]
    ENTRYPOINT_FIELD_NUMBER: _ClassVar[int]
    NETWORK_DISABLED_FIELD_NUMBER: _ClassVar[int]
    MAC_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    SHELL_FIELD_NUMBER: _ClassVar[int]
    image: str
    user: str
    exposed_ports: _containers.RepeatedScalarFieldContainer[str]
    env: _containers.RepeatedScalarFieldContainer[str]
    cmd: _containers.RepeatedScalarFieldContainer[str]
    args_escaped: bool
    volumes: _containers.RepeatedScalarFieldContainer[str]
    working_dir: str
    entrypoint: _containers.RepeatedScalarFieldContainer[str]
    network_disabled: bool
    mac_address: str
    shell: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, image: _Optional[str] = ..., user: _Optional[str] = ..., exposed_ports: _Optional[_Iterable[str]] = ..., env: _Optional[_Iterable[str]] = ..., cmd: _Optional[_Iterable[str]] = ..., args_escaped: _Optional[bool] = ..., volumes: _Optional[_Iterable[str]] = ..., working_dir: _Optional[str] = ..., entrypoint: _Optional[_Iterable[str]] = ..., network_disabled: _Optional[bool] = ..., mac_address: _Optional[str] = ..., shell: _Optional[_Iterable[str]] = ...) -> None: ...
