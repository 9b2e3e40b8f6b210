"""Recent throughput per channel, kept across screen switches for the sparklines."""

from __future__ import annotations

import collections

from jwp.proto.jwp.service import dashboard_pb2

HISTORY_LENGTH = 120
"""Samples kept per channel: two minutes at the default interval of one second."""


class LoadHistory:
    """Finished runs per snapshot interval, per channel, newest last."""

    def __init__(self, length: int = HISTORY_LENGTH) -> None:
        self._length = length
        self._finished: dict[str, collections.deque[int]] = {}

    def add(self, snapshot: dashboard_pb2.ChannelLoadSnapshot) -> None:
        for channel in snapshot.channels:
            samples = self._finished.get(channel.name)
            if samples is None:
                samples = collections.deque([0] * self._length, maxlen=self._length)
                self._finished[channel.name] = samples
            samples.append(channel.finished_in_interval)

    def finished(self, channel: str) -> list[int]:
        """Return the samples of a channel, oldest first (zeros before the first snapshot)."""
        samples = self._finished.get(channel)
        return list(samples) if samples is not None else [0] * self._length
