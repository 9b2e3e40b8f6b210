"""Snowflake ids for jobs, job results and run-time runners, and UUIDv7 for workflow runs.

Snowflake layout (the jobworkerp layout, so ids sort and decode the same way):
`milliseconds since the UNIX epoch << 22 | node id (10 bits) << 12 | sequence (12 bits)`.
Unlike the original generator, ids from one generator strictly increase.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import random
import socket
import threading
import time
import uuid

logger = logging.getLogger(__name__)

NODE_BITS = 10
SEQUENCE_BITS = 12
MAX_NODE_ID = (1 << NODE_BITS) - 1
_SEQUENCE_MASK = (1 << SEQUENCE_BITS) - 1
_TIMESTAMP_SHIFT = NODE_BITS + SEQUENCE_BITS


class SnowflakeGenerator:
    """Thread-safe generator of 63-bit ids unique to one node id."""

    def __init__(self, node_id: int) -> None:
        if not 0 <= node_id <= MAX_NODE_ID:
            raise ValueError(f"snowflake node id {node_id} is outside 0-{MAX_NODE_ID}")
        self.node_id = node_id
        self._lock = threading.Lock()
        self._last_ms = 0
        self._sequence = 0

    def next_id(self) -> int:
        """Return a new id; blocks for under a millisecond when 4096 ids were taken in one."""
        with self._lock:
            now_ms = time.time_ns() // 1_000_000
            # A clock that steps back must not repeat ids, so time never goes
            # below the last timestamp used.
            now_ms = max(now_ms, self._last_ms)
            if now_ms == self._last_ms:
                self._sequence = (self._sequence + 1) & _SEQUENCE_MASK
                if self._sequence == 0:
                    now_ms = self._last_ms + 1
                    while time.time_ns() // 1_000_000 < now_ms:
                        time.sleep(0.0001)
            else:
                self._sequence = 0
            self._last_ms = now_ms
            return (now_ms << _TIMESTAMP_SHIFT) | (self.node_id << SEQUENCE_BITS) | self._sequence


def timestamp_ms_of(snowflake_id: int) -> int:
    """Return the creation time of an id in epoch milliseconds."""
    return snowflake_id >> _TIMESTAMP_SHIFT


def node_id_from_host() -> int:
    """Derive a node id from the low 10 bits of this host's private IPv4 address.

    This is the Standalone fallback: two hosts on different subnets can share
    it, so Scalable mode leases node ids from Redis instead. Without a private
    address the id is random.
    """
    address = _private_ipv4()
    if address is None:
        node_id = random.randint(0, MAX_NODE_ID)
        logger.debug("no private IPv4 address found; using random snowflake node id %d", node_id)
        return node_id
    return int(address) & MAX_NODE_ID


def _private_ipv4() -> ipaddress.IPv4Address | None:
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        return None
    for info in infos:
        address = ipaddress.IPv4Address(info[4][0])
        if address.is_private and not address.is_loopback:
            return address
    return None


def uuid7() -> uuid.UUID:
    """Return a version 7 UUID (RFC 9562): the Unix time in ms, then 74 random bits.

    The standard library has `uuid.uuid7` only from Python 3.14. UUIDs made in
    the same millisecond are unique but not ordered among themselves.
    """
    unix_ms = (time.time_ns() // 1_000_000) & ((1 << 48) - 1)
    random_bits = int.from_bytes(os.urandom(10), "big")
    random_a = random_bits >> 68  # 12 bits
    random_b = random_bits & ((1 << 62) - 1)
    value = (unix_ms << 80) | (0x7 << 76) | (random_a << 64) | (0b10 << 62) | random_b
    return uuid.UUID(int=value)
