"""Token buckets that keep the bridge inside Amazon's published quotas.

Amazon meters each operation per seller with a token bucket (rate per second, burst). Mirroring those buckets
locally means the bridge waits, or gives up within its time budget, instead of earning 429s.
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


class RateLimiter:
    """One bucket per (seller, operation), created on first use."""

    def __init__(self, quotas: dict[str, tuple[float, int]]) -> None:
        self._quotas = quotas
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    def bucket(self, seller_id: str, operation: str) -> TokenBucket:
        key = (seller_id, operation)
        with self._lock:
            if key not in self._buckets:
                rate, burst = self._quotas[operation]
                self._buckets[key] = TokenBucket(rate, burst)
            return self._buckets[key]

    def acquire(self, seller_id: str, operation: str, max_wait: float) -> None:
        """Block until a request slot is ours, or raise QuotaExhausted if it will not come in ``max_wait``."""
        wait = self.bucket(seller_id, operation).reserve(max_wait)
        if wait > 0:
            time.sleep(wait)
