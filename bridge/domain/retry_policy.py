"""How long to wait before trying again, and when to stop: one rule for every bounded retry of the pipeline.

Sending a feed, polling a submitted one and confirming a cancel all wait a doubling delay between tries, capped,
and give up after a set number of tries. ``tries`` always counts the tries made so far, the failed one included.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    first_delay: float  # seconds before the second try
    max_delay: float  # the doubling stops here
    max_tries: int | None = None  # None: never give up (the wait is bounded by max_delay)

    def delay(self, tries: int) -> float:
        """Seconds to wait after ``tries`` tries before the next: first_delay, doubling, at most max_delay."""
        return min(self.max_delay, self.first_delay * 2 ** max(0, tries - 1))

    def exhausted(self, tries: int) -> bool:
        """True when ``tries`` tries were all there is."""
        return self.max_tries is not None and tries >= self.max_tries
