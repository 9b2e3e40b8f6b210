from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SlackChatPostMessageArgs(_message.Message):
    __slots__ = ("channel", "attachments", "blocks", "text", "icon_emoji", "icon_url", "link_names", "mrkdwn", "parse", "reply_broadcast", "thread_ts", "unfurl_links", "unfurl_media", "username")
    class Attachment(_message.Message):
        __slots__ = ("color", "author_icon", "author_link", "author_name", "fallback", "fields", "footer", "footer_icon", "image_url", "mrkdwn_in", "pretext", "text", "title", "title_link", "thumb_url", "ts")
        COLOR_FIELD_NUMBER: _ClassVar[int]
        AUTHOR_ICON_FIELD_NUMBER: _ClassVar[int]
        AUTHOR_LINK_FIELD_NUMBER: _ClassVar[int]
        AUTHOR_NAME_FIELD_NUMBER: _ClassVar[int]
        FALLBACK_FIELD_NUMBER: _ClassVar[int]
        FIELDS_FIELD_NUMBER: _ClassVar[int]
        FOOTER_FIELD_NUMBER: _ClassVar[int]
        FOOTER_ICON_FIELD_NUMBER: _ClassVar[int]
        IMAGE_URL_FIELD_NUMBER: _ClassVar[int]
        MRKDWN_IN_FIELD_NUMBER: _ClassVar[int]
        PRETEXT_FIELD_NUMBER: _ClassVar[int]
        TEXT_FIELD_NUMBER: _ClassVar[int]
        TITLE_FIELD_NUMBER: _ClassVar[int]
        TITLE_LINK_FIELD_NUMBER: _ClassVar[int]
        THUMB_URL_FIELD_NUMBER: _ClassVar[int]
        TS_FIELD_NUMBER: _ClassVar[int]
        color: str
        author_icon: str
        author_link: str
        author_name: str
        fallback: str
        fields: _containers.RepeatedCompositeFieldContainer[SlackChatPostMessageArgs.AttachmentField]
        footer: str
        footer_icon: str
        image_url: str
        mrkdwn_in: _containers.RepeatedScalarFieldContainer[str]
        pretext: str
        text: str
        title: str
        title_link: str
        thumb_url: str
        ts: int
        def __init__(self, color: _Optional[str] = ..., author_icon: _Optional[str] = ..., author_link: _Optional[str] = ..., author_name: _Optional[str] = ..., fallback: _Optional[str] = ..., fields: _Optional[_Iterable[_Union[SlackChatPostMessageArgs.AttachmentField, _Mapping]]] = ..., footer: _Optional[str] = ..., footer_icon: _Optional[str] = ..., image_url: _Optional[str] = ..., mrkdwn_in: _Optional[_Iterable[str]] = ..., pretext: _Optional[str] = ..., text: _Optional[str] = ..., title: _Optional[str] = ..., title_link: _Optional[str] = ..., thumb_url: _Optional[str] = ..., ts: _Optional[int] = ...) -> None: ...
    class AttachmentField(_message.Message):
        __slots__ = ("title", "value", "short")
        TITLE_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        SHORT_FIELD_NUMBER: _ClassVar[int]
        title: str
        value: str
        short: bool
        def __init__(self, title: _Optional[str] = ..., value: _Optional[str] = ..., short: _Optional[bool] = ...) -> None: ...
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENTS_FIELD_NUMBER: _ClassVar[int]
    BLOCKS_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    ICON_EMOJI_FIELD_NUMBER: _ClassVar[int]
    ICON_URL_FIELD_NUMBER: _ClassVar[int]
    LINK_NAMES_FIELD_NUMBER: _ClassVar[int]
    MRKDWN_FIELD_NUMBER: _ClassVar[int]
    PARSE_FIELD_NUMBER: _ClassVar[int]
    REPLY_BROADCAST_FIELD_NUMBER: _ClassVar[int]
    THREAD_TS_FIELD_NUMBER: _ClassVar[int]
    UNFURL_LINKS_FIELD_NUMBER: _ClassVar[int]
    UNFURL_MEDIA_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    channel: str
    attachments: _containers.RepeatedCompositeFieldContainer[SlackChatPostMessageArgs.Attachment]
    blocks: _containers.RepeatedScalarFieldContainer[str]
    text: str
    icon_emoji: str
    icon_url: str
    link_names: bool
    mrkdwn: bool
    parse: str
    reply_broadcast: bool
    thread_ts: str
    unfurl_links: bool
    unfurl_media: bool
    username: str
    def __init__(self, channel: _Optional[str] = ..., attachments: _Optional[_Iterable[_Union[SlackChatPostMessageArgs.Attachment, _Mapping]]] = ..., blocks: _Optional[_Iterable[str]] = ..., text: _Optional[str] = ..., icon_emoji: _Optional[str] = ..., icon_url: _Optional[str] = ..., link_names: _Optional[bool] = ..., mrkdwn: _Optional[bool] = ..., parse: _Optional[str] = ..., reply_broadcast: _Optional[bool] = ..., thread_ts: _Optional[str] = ..., unfurl_links: _Optional[bool] = ..., unfurl_media: _Optional[bool] = ..., username: _Optional[str] = ...) -> None: ...
