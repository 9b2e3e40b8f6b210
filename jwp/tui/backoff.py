"""Delays between reconnect attempts."""

from __future__ import annotations

import random


class Backoff:
    """Exponential delays with jitter: about 0.5 s, 1 s, 2 s … up to `max_s`.

    The jitter (up to a fifth of each delay) keeps many dashboards from
    reconnecting to a restarted server in the same instant.
    """

    def __init__(self, initial_s: float = 0.5, max_s: float = 8.0, factor: float = 2.0) -> None:
        self.initial_s = initial_s
        self.max_s = max_s
        self.factor = factor
        self.attempt = 0

    def next_delay(self) -> float:
        """Count one failed attempt and return how long to wait before the next, in s."""
        base = min(self.max_s, self.initial_s * self.factor**self.attempt)
        self.attempt += 1
        return base * (1 - random.random() / 5)

    def reset(self) -> None:
        """Start over after a successful connection."""
        self.attempt = 0
