"""Amazon's quota model for the stand-in: a token bucket per seller and operation (rate per second, burst).

The stand-in's own, in-memory enforcement of the published numbers: it answers 429 the moment a caller goes over.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """A bucket refilled continuously at ``rate`` tokens/s up to ``burst``."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Take one token if there is one now; False (nothing taken) when the caller is over the quota."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True
