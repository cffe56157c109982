"""``bridge worker``: drives every recorded cancel request to a final state, alongside any number of peers.

Each round runs every pipeline step once; steps claim their work under leases, so several workers on one database
share it without doing anything twice, and a killed worker's work is taken over when its leases run out. SIGTERM
lets the current step finish (steps are short and check the stop flag) and then exits.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import uuid
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from bridge.pipeline.check import check_pending
from bridge.pipeline.confirm import confirm_cancelled
from bridge.pipeline.context import PipelineContext
from bridge.pipeline.mirror import keep_mirrors_fresh
from bridge.pipeline.poll import poll_submitted_feeds
from bridge.pipeline.recover import recover_stale_feeds
from bridge.pipeline.send import send_ready
from bridge.pipeline.write_back import write_back
from bridge.services import Services

log = logging.getLogger(__name__)

STEPS: tuple[Callable[[PipelineContext], int], ...] = (
    keep_mirrors_fresh,
    recover_stale_feeds,
    check_pending,
    send_ready,
    poll_submitted_feeds,
    confirm_cancelled,
    write_back,
)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def pipeline_context(services: Services, owner: str | None = None) -> PipelineContext:
    return PipelineContext(
        owner=owner or worker_id(),
        requests=services.cancel_requests,
        feeds=services.feed_records,
        orders=services.orders,
        feeds_api=services.feeds,
        commerce=services.commerce,
        limiter=services.limiter,
        mirror=services.mirror,
        stores=services.settings.stores,
        settings=services.settings.pipeline,
    )


def run_round(ctx: PipelineContext) -> int:
    """Every step once; how much moved. A failure in one step does not stop the others."""
    progressed = 0
    for step in STEPS:
        if ctx.stop.is_set():
            break
        try:
            progressed += step(ctx)
        except SQLAlchemyError as exc:
            log.error("pipeline step failed", extra={"step": step.__name__, "error": exc.__class__.__name__})
        except Exception:  # a bug in one step must not stop the others; leases hand its work back later
            log.exception("pipeline step crashed", extra={"step": step.__name__})
    return progressed


def run_worker(services: Services) -> int:
    ctx = pipeline_context(services)

    def request_stop(signum: int, _frame: object) -> None:
        log.info("stopping after the current step", extra={"signal": signal.Signals(signum).name})
        ctx.stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    log.info("worker started", extra={"worker": ctx.owner})
    while not ctx.stop.is_set():
        if run_round(ctx) == 0:
            ctx.stop.wait(ctx.settings.worker_idle_seconds)
    log.info("worker stopped", extra={"worker": ctx.owner})
    return 0
