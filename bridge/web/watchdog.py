"""Answers on time whatever the work it waits for does: a database that accepts connections and never replies,
a lock held too long, a pool with no free connection.

The work runs on a small pool of threads (greenlets under gunicorn's gevent workers); the caller waits at most its
budget, then answers without it. Work left running finishes or fails on its own timeouts later; what it may still
write is safe by design (a cancel recorded after its answer only waits for a Commerce confirmation that never comes).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

T = TypeVar("T")


class TimedOut(Exception):
    """The work did not finish within the caller's budget."""


class Watchdog:
    def __init__(self, max_workers: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="watched")

    def run(self, work: Callable[[], T], budget: float) -> T:
        """The work's result, or TimedOut once ``budget`` seconds have passed (queueing for a thread included)."""
        future = self._pool.submit(work)
        try:
            return future.result(timeout=max(0.0, budget))
        except FutureTimeout:
            future.cancel()  # not started yet (every thread busy): it never will
            raise TimedOut from None
