"""Listen addresses written as `host:port`, with IPv6 hosts in brackets."""

from __future__ import annotations


def split_listen_address(address: str, setting: str) -> tuple[str, int]:
    """Split `127.0.0.1:9464` or `[::1]:9464` into host and port (port 0 picks a free one).

    Raises:
        ValueError: The address has no port, or the port is not 0-65535; the
            message names `setting`.
    """
    if "://" in address:
        raise ValueError(
            f"{setting} {address!r} has a scheme; a listen address is host:port without "
            "http:// or https://, e.g. 127.0.0.1:9464 or [::1]:9464"
        )
    host, separator, port_text = address.strip().rpartition(":")
    if separator and host and port_text.isdigit() and int(port_text) > 65535:
        raise ValueError(f"{setting} {address!r} has port {port_text}; the port must be 0-65535")
    if not separator or not host or not port_text.isdigit() or int(port_text) > 65535:
        raise ValueError(
            f"{setting} {address!r} is not a listen address; write host:port, e.g. "
            "127.0.0.1:9464 or [::1]:9464"
        )
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port_text)
