from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GrpcUnaryRunnerSettings(_message.Message):
    __slots__ = ("host", "port", "tls", "timeout_ms", "max_message_size", "auth_token", "tls_config", "use_reflection")
    class TlsConfig(_message.Message):
        __slots__ = ("ca_cert_path", "client_cert_path", "client_key_path", "server_name_override")
        CA_CERT_PATH_FIELD_NUMBER: _ClassVar[int]
        CLIENT_CERT_PATH_FIELD_NUMBER: _ClassVar[int]
        CLIENT_KEY_PATH_FIELD_NUMBER: _ClassVar[int]
        SERVER_NAME_OVERRIDE_FIELD_NUMBER: _ClassVar[int]
        ca_cert_path: str
        client_cert_path: str
        client_key_path: str
        server_name_override: str
        def __init__(self, ca_cert_path: _Optional[str] = ..., client_cert_path: _Optional[str] = ..., client_key_path: _Optional[str] = ..., server_name_override: _Optional[str] = ...) -> None: ...
    HOST_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    TLS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    MAX_MESSAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    AUTH_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TLS_CONFIG_FIELD_NUMBER: _ClassVar[int]
    USE_REFLECTION_FIELD_NUMBER: _ClassVar[int]
    host: str
    port: int
    tls: bool
    timeout_ms: int
    max_message_size: int
    auth_token: str
    tls_config: GrpcUnaryRunnerSettings.TlsConfig
    use_reflection: bool
    def __init__(self, host: _Optional[str] = ..., port: _Optional[int] = ..., tls: _Optional[bool] = ..., timeout_ms: _Optional[int] = ..., max_message_size: _Optional[int] = ..., auth_token: _Optional[str] = ..., tls_config: _Optional[_Union[GrpcUnaryRunnerSettings.TlsConfig, _Mapping]] = ..., use_reflection: _Optional[bool] = ...) -> None: ...
