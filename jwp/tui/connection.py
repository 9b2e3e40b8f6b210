"""Following the server: health and channel load streams, reconnecting with backoff.

`ServerMonitor.run` keeps two streams open, the gRPC health watch and the
dashboard's channel load stream. When either fails or ends, the
connection counts as lost: the monitor reports the error, waits for the
backoff delay, and connects again, for as long as the dashboard runs.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import grpc

from jwp.proto.jwp.service import dashboard_pb2

from .backoff import Backoff
from .client import ClientError, JwpClient

logger = logging.getLogger(__name__)


class ConnectionState(enum.Enum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


@dataclass(frozen=True)
class ConnectionStatus:
    """The state of the connection and, once lost, why and when the next attempt starts."""

    state: ConnectionState
    error: str = ""
    retry_in_s: float = 0.0
    attempt: int = 0

    def describe(self) -> str:
        if self.state is ConnectionState.CONNECTED:
            return "connected"
        if self.state is ConnectionState.CONNECTING:
            return "connecting…" if self.attempt == 0 else f"reconnecting (attempt {self.attempt})…"
        return f"disconnected: {self.error} · retrying in {self.retry_in_s:.1f} s"


class ConnectionLostError(Exception):
    """A stream that should stay open ended."""


class ServerMonitor:
    """Keeps the health and load streams open and reports what they carry.

    Args:
        on_status: Called on every change of the connection state.
        on_health: Called with the server's health status name (SERVING, NOT_SERVING, …).
        on_snapshot: Called with every load snapshot.
        on_load_unavailable: Called once per connection when the server has no
            DashboardService (a jobworkerp-rs server), with the reason.
    """

    def __init__(
        self,
        client: JwpClient,
        *,
        interval_ms: int,
        on_status: Callable[[ConnectionStatus], None],
        on_health: Callable[[str], None],
        on_snapshot: Callable[[dashboard_pb2.ChannelLoadSnapshot], None],
        on_load_unavailable: Callable[[str], None],
        backoff: Backoff | None = None,
    ) -> None:
        self._client = client
        self._interval_ms = interval_ms
        self._on_status = on_status
        self._on_health = on_health
        self._on_snapshot = on_snapshot
        self._on_load_unavailable = on_load_unavailable
        self._backoff = backoff or Backoff()

    async def run(self) -> None:
        """Follow the server until cancelled."""
        self._on_status(ConnectionStatus(ConnectionState.CONNECTING))
        while True:
            try:
                await self._follow()
                error = "the server closed the connection"
            except (ClientError, ConnectionLostError) as failure:
                error = str(failure)
            delay = self._backoff.next_delay()
            logger.info(
                "connection to %s lost (%s); retrying in %.1f s",
                self._client.address.address,
                error,
                delay,
            )
            self._on_status(
                ConnectionStatus(
                    ConnectionState.DISCONNECTED,
                    error=error,
                    retry_in_s=delay,
                    attempt=self._backoff.attempt,
                )
            )
            await asyncio.sleep(delay)
            self._on_status(
                ConnectionStatus(ConnectionState.CONNECTING, attempt=self._backoff.attempt)
            )

    async def _follow(self) -> None:
        """Connect, then return or raise when the first of the two streams stops."""
        try:
            self._on_health(await self._client.check_health())
        except ClientError as error:
            if error.code != grpc.StatusCode.UNIMPLEMENTED:
                raise
            self._on_health("UNKNOWN")
        self._backoff.reset()
        self._on_status(ConnectionStatus(ConnectionState.CONNECTED))
        logger.info("connected to %s", self._client.address.address)

        await _first_to_stop(self._follow_load(), self._follow_health())

    async def _follow_load(self) -> None:
        try:
            async for snapshot in self._client.watch_load(self._interval_ms):
                self._on_snapshot(snapshot)
        except ClientError as error:
            if error.code != grpc.StatusCode.UNIMPLEMENTED:
                raise
            self._on_load_unavailable(
                "this server has no jwp DashboardService, so channel load is not shown"
            )
            await asyncio.Event().wait()
        raise ConnectionLostError("the server ended the channel load stream")

    async def _follow_health(self) -> None:
        try:
            async for status in self._client.watch_health():
                self._on_health(status)
        except ClientError as error:
            if error.code != grpc.StatusCode.UNIMPLEMENTED:
                raise
            await asyncio.Event().wait()
        raise ConnectionLostError("the server ended the health stream")


async def _first_to_stop(*coroutines: Coroutine[Any, Any, None]) -> None:
    """Run coroutines until the first one returns or raises; cancel the others."""
    tasks = [asyncio.create_task(coroutine) for coroutine in coroutines]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in done:
        task.result()
