from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class SlackRunnerSettings(_message.Message):
    __slots__ = ("bot_token", "bot_name")
    BOT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    BOT_NAME_FIELD_NUMBER: _ClassVar[int]
    bot_token: str
    bot_name: str
    def __init__(self, bot_token: _Optional[str] = ..., bot_name: _Optional[str] = ...) -> None: ...
