"""Helpers for driving the pipeline in tests: the worker's own rounds, until a condition holds."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from bridge.pipeline.worker import run_round
from bridge.pipeline.worker_context import WorkerContext

FAST_PIPELINE = {
    "BRIDGE_FEED_POLL_SECONDS": "0.02",
    "BRIDGE_FEED_POLL_BACKSTOP_SECONDS": "0.1",
    "BRIDGE_RETRY_BACKOFF_SECONDS": "0.02",
    "BRIDGE_WORKER_IDLE_SECONDS": "0.01",
    "BRIDGE_FEED_GATHER_SECONDS": "0.05",
    "BRIDGE_COMMERCE_CONFIRM_SECONDS": "0.05",
    "BRIDGE_COMMERCE_LINKS_REFRESH_SECONDS": "0.01",
}


def eventually(predicate: Callable[[], bool], timeout: float = 30.0, interval: float = 0.05) -> bool:
    """Re-check a condition another process brings about (e.g. a row committed by a worker) until it holds."""
    give_up = time.monotonic() + timeout
    pause = threading.Event()
    while not predicate():
        if time.monotonic() > give_up:
            return False
        pause.wait(interval)
    return True


def drive(ctx: WorkerContext, until: Callable[[], bool], timeout: float = 30.0) -> None:
    """Run worker rounds (idling as the worker does) until ``until()``; fail after ``timeout`` seconds."""
    give_up = time.monotonic() + timeout
    while not until():
        if time.monotonic() > give_up:
            raise AssertionError(f"condition not reached within {timeout}s")
        if run_round(ctx) == 0:
            ctx.stop.wait(ctx.pipeline.worker_idle_seconds)
