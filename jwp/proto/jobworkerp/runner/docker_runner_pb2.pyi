from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class DockerRunnerSettings(_message.Message):
    __slots__ = ("from_image", "from_src", "repo", "tag", "platform", "env", "volumes", "working_dir", "entrypoint")
    FROM_IMAGE_FIELD_NUMBER: _ClassVar[int]
    FROM_SRC_FIELD_NUMBER: _ClassVar[int]
    REPO_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    ENV_FIELD_NUMBER: _ClassVar[int]
    VOLUMES_FIELD_NUMBER: _ClassVar[int]
    WORKING_DIR_FIELD_NUMBER: _ClassVar[int]
    ENTRYPOINT_FIELD_NUMBER: _ClassVar[int]
    from_image: str
    from_src: str
    repo: str
    tag: str
    platform: str
    env: _containers.RepeatedScalarFieldContainer[str]
    volumes: _containers.RepeatedScalarFieldContainer[str]
    working_dir: str
    entrypoint: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, from_image: _Optional[str] = ..., from_src: _Optional[str] = ..., repo: _Optional[str] = ..., tag: _Optional[str] = ..., platform: _Optional[str] = ..., env: _Optional[_Iterable[str]] = ..., volumes: _Optional[_Iterable[str]] = ..., working_dir: _Optional[str] = ..., entrypoint: _Optional[_Iterable[str]] = ...) -> None: ...
