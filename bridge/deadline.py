"""A time budget shared by every call made on behalf of one piece of work (e.g. one webhook answer)."""

from __future__ import annotations

import time

from bridge.errors import DeadlineExceeded


class Deadline:
    def __init__(self, seconds: float) -> None:
        self._end = time.monotonic() + seconds

    @classmethod
    def unbounded(cls) -> Deadline:
        """For background work that has no caller waiting; each call still has its own timeout."""
        return cls(365 * 24 * 3600.0)

    def remaining(self) -> float:
        return max(0.0, self._end - time.monotonic())

    def timeout(self, cap: float, service: str) -> float:
        """The timeout for the next call: the per-call cap, cut to what is left of the budget."""
        left = self.remaining()
        if left <= 0.01:
            raise DeadlineExceeded(service, "time budget used up before the call")
        return min(cap, left)
