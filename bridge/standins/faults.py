"""Faults a test or benchmark can order from a stand-in: error statuses, slow answers."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass
class Fault:
    status: int | None = None  # answer with this status instead of serving
    delay: float = 0.0  # seconds to wait before answering
    remaining: int = 1


class FaultPlan:
    """Faults queued per operation name ("*" for any), consumed one call at a time."""

    def __init__(self) -> None:
        self._faults: dict[str, list[Fault]] = {}
        self._lock = threading.Lock()

    def add(self, operation: str, *, status: int | None = None, delay: float = 0.0, times: int = 1) -> None:
        with self._lock:
            self._faults.setdefault(operation, []).append(Fault(status, delay, times))

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
