"""Pacing of API Particulier calls: at most `rate` requests per second per token.

API Particulier counts calls per token in fixed one-second windows and answers 429 beyond
20 (REFERENCE §8); a storm of 429 can get the token banned for 12 hours. The limiter
therefore never relies on 429: it spaces calls evenly (one slot every `1 / rate` second,
with a small margin for clock granularity) and, after each answer, reads
`RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` to wait for the next
window when the server says the current one is spent (another process may share the
token); `Retry-After` on a 429 is the client's retry delay, not the limiter's business. Every
number is read by `limits.server_number` (finite, non-negative, ASCII).
`reserve()` is pure bookkeeping (it returns how long to wait), so the sync and async
clients share it and tests drive it with a fake clock.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping

from .limits import MAX_WAIT, server_number

DEFAULT_RATE = 20.0  # requests per second and per token (REFERENCE §8)
MARGIN = 0.98  # pace at 98 % of the limit: clocks and windows are never exactly aligned


class RateLimiter:
    """Evenly spaced slots for one token; thread-safe (one lock, short critical sections)."""

    def __init__(self, rate: float = DEFAULT_RATE, *, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time):
        if not (isinstance(rate, (int, float)) and math.isfinite(rate) and rate > 0):
            raise ValueError("le débit doit être positif (requêtes par seconde)")
        self.rate = float(rate)
        self._clock = clock
        self._wall = wall
        self._next = float("-inf")  # monotonic time of the next free slot
        self._lock = threading.Lock()

    @property
    def interval(self) -> float:
        return 1.0 / (self.rate * MARGIN)

    def reserve(self) -> float:
        """Take the next slot; the number of seconds to wait before sending."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.interval
            return slot - now

    def observe(self, headers: Mapping[str, str]) -> None:
        """Adapt to what the server says of the current window (missing or unreadable headers:
        nothing). A limit below one call per window (`0`, `1e-300`) is not a pace anyone can
        keep: it is ignored, as is a wait beyond `MAX_WAIT` (the call's deadline decides)."""
        limit = server_number(headers.get("RateLimit-Limit"))
        remaining = server_number(headers.get("RateLimit-Remaining"))
        reset = server_number(headers.get("RateLimit-Reset"))
        with self._lock:
            if limit is not None and 1 <= limit < self.rate:
                self.rate = limit  # the server's limit wins over the configured one
            wait = 0.0
            if remaining is not None and remaining < 1 and reset is not None:
                wait = max(reset - self._wall(), 0.0)
            if wait:
                self._next = max(self._next, self._clock() + min(wait, MAX_WAIT))
