from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class SlackChatPostMessageResult(_message.Message):
    __slots__ = ("channel", "ts", "message")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    TS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    channel: str
    ts: str
    message: str
    def __init__(self, channel: _Optional[str] = ..., ts: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...
