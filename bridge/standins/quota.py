"""Amazon's quota model for the stand-in: a token bucket per seller and operation (rate per second, burst).

The bridge keeps its own, shared buckets in its database (bridge/rate_limit.py); this in-memory one is the
stand-in's independent enforcement of the same published numbers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from bridge.errors import QuotaExhausted


class TokenBucket:
    """A bucket refilled continuously at ``rate`` tokens/s up to ``burst``, that hands out reservations."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock()
        self._lock = threading.Lock()

    def _refill(self, now: float) -> None:
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def reserve(self, max_wait: float) -> float:
        """Take one token, returning how long to wait before using it; take none if that exceeds ``max_wait``.

        Raises QuotaExhausted (with no token taken) when the wait would be longer than ``max_wait``.
        """
        with self._lock:
            now = self._clock()
            self._refill(now)
            wait = 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate
            if wait > max_wait:
                raise QuotaExhausted("rate limiter", f"next request slot in {wait:.1f}s", code="LocalQuota")
            self._tokens -= 1
            return wait

    def drain(self) -> None:
        """Amazon said 429: assume its bucket is empty and start refilling from zero."""
        with self._lock:
            self._updated = self._clock()
            self._tokens = min(self._tokens, 0.0)
