"""Faults a test or benchmark can order from a stand-in: error statuses, slow answers, answers held back."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass


@dataclass
class Fault:
    status: int | None = None  # answer with this status instead of serving
    delay: float = 0.0  # seconds to wait before handling the request
    remaining: int = 1
    delay_after: float = 0.0  # seconds to wait after handling it, before answering (the work is done either way)


class FaultPlan:
    """Faults queued per operation name ("*" for any), consumed one call at a time.

    ``delay`` sleeps before the request is handled; ``delay_after`` lets the handler do its work (a feed gets
    created, an order changes) and then holds the answer back, so a test can kill or time out the client after
    the server acted but before the client learnt about it. Stand-ins that do not support ``delay_after`` ignore it.
    """

    def __init__(self) -> None:
        self._faults: dict[str, list[Fault]] = {}
        self._lock = threading.Lock()

    def add(
        self,
        operation: str,
        *,
        status: int | None = None,
        delay: float = 0.0,
        delay_after: float = 0.0,
        times: int = 1,
    ) -> None:
        with self._lock:
            fault = Fault(status=status, delay=delay, remaining=times, delay_after=delay_after)
            self._faults.setdefault(operation, []).append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, operation: str) -> Fault | None:
        with self._lock:
            for key in (operation, "*"):
                queue = self._faults.get(key)
                if queue:
                    fault = queue[0]
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        queue.pop(0)
                    return fault
        return None


@dataclass
class Latency:
    """A realistic round trip for every call: ``fixed`` seconds plus up to ``jitter`` more, at random."""

    fixed: float = 0.0
    jitter: float = 0.0

    def wait(self) -> None:
        delay = self.fixed + (random.uniform(0, self.jitter) if self.jitter else 0.0)  # noqa: S311 - not crypto
        if delay > 0:
            time.sleep(delay)
