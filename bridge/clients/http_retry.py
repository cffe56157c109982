"""Exponential back-off with full jitter, bounded by a deadline."""

from __future__ import annotations

import random
import time

from bridge.clients.deadline import Deadline


def backoff_delay(attempt: int, base: float = 0.1, cap: float = 5.0) -> float:
    """Full-jitter delay before retry number ``attempt`` (1-based)."""
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1)))  # noqa: S311 - jitter, not crypto


def sleep_before_retry(attempt: int, deadline: Deadline, reserve: float) -> bool:
    """Sleep before the next try if the deadline leaves room for it and ``reserve`` s more; else say no."""
    delay = backoff_delay(attempt)
    if deadline.remaining() < delay + reserve:
        return False
    time.sleep(delay)
    return True
