"""``bridge worker``: drives every recorded cancel request to a final state, alongside any number of peers.

Each round runs every pipeline step once; steps claim their work under leases, so several workers on one database
share it without doing anything twice, and a killed worker's work is taken over when its leases run out. SIGTERM
lets the current step finish (steps are short and check the stop flag) and then exits.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from bridge.domain.pacing import idle_wait
from bridge.domain.states import RequestState, TransitionRefused
from bridge.pipeline.notification_inbox import long_poll_seconds
from bridge.pipeline.steps.check_pending import check_pending
from bridge.pipeline.steps.confirm_cancelled_at_amazon import confirm_cancelled_at_amazon
from bridge.pipeline.steps.confirm_commerce_cancels import confirm_commerce_cancels
from bridge.pipeline.steps.follow_notifications import follow_notifications
from bridge.pipeline.steps.note_buyer_requests import note_buyer_requests
from bridge.pipeline.steps.poll_submitted_feeds import poll_submitted_feeds
from bridge.pipeline.steps.recover_stale_feeds import recover_stale_feeds
from bridge.pipeline.steps.reflect_amazon_changes import reflect_amazon_changes
from bridge.pipeline.steps.refresh_amazon_mirror import refresh_amazon_mirror
from bridge.pipeline.steps.refresh_commerce_links import refresh_commerce_links
from bridge.pipeline.steps.send_ready_feeds import next_send_at, send_ready_feeds
from bridge.pipeline.steps.write_back import write_back
from bridge.pipeline.worker_context import WorkerContext

log = logging.getLogger(__name__)

STEPS: tuple[Callable[[WorkerContext], int], ...] = (
    follow_notifications,  # first: what Amazon announced is in the mirror and due before the other steps look
    refresh_commerce_links,
    refresh_amazon_mirror,
    reflect_amazon_changes,
    recover_stale_feeds,
    confirm_commerce_cancels,
    check_pending,
    send_ready_feeds,
    poll_submitted_feeds,
    confirm_cancelled_at_amazon,
    write_back,
    note_buyer_requests,
)


def run_round(ctx: WorkerContext) -> int:
    """Every step once; how much moved. A failure in one step does not stop the others."""
    progressed = 0
    for step in STEPS:
        if ctx.stop.is_set():
            break
        try:
            progressed += step(ctx)
        except TransitionRefused as exc:
            # A request or feed moved under this worker (its lease ran out and another took over): what this step
            # still held is released when its leases expire, and the other worker carries on with it.
            log.warning("pipeline step lost a row to another worker", extra={"step": step.__name__, "error": str(exc)})
        except SQLAlchemyError as exc:
            log.error("pipeline step failed", extra={"step": step.__name__, "error": exc.__class__.__name__})
        except Exception:  # a bug in one step must not stop the others; leases hand its work back later
            log.exception("pipeline step crashed", extra={"step": step.__name__})
    return progressed


def run_worker(ctx: WorkerContext) -> int:

    def request_stop(signum: int, _frame: object) -> None:
        log.info("stopping after the current step", extra={"signal": signal.Signals(signum).name})
        ctx.stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    log.info("worker started", extra={"worker": ctx.owner})
    while not ctx.stop.is_set():
        if run_round(ctx) == 0:
            idle(ctx)
    log.info("worker stopped", extra={"worker": ctx.owner})
    return 0


def idle(ctx: WorkerContext) -> None:
    """Wait before the next round: on the notification queue (a long poll that ends as soon as Amazon says
    something, within BRIDGE_WORKER_IDLE_SECONDS, so SIGTERM still stops the worker within that), else plainly.

    Never past the next moment something is known to fall due (``next_due``): a feed's next poll, a batch's send
    time, a request's retry are then taken up on time, not at the next idle round. A wait under a second is plain
    (SQS long polls in whole seconds); a busy worker looks at the queue all the same.
    """
    wait = idle_wait(ctx.pipeline.worker_idle_seconds, ctx.clock(), next_due(ctx))
    inbox = ctx.notifications
    if inbox is None or wait < 1 or not inbox.receive(long_poll_seconds(wait)):
        ctx.stop.wait(wait)
    if inbox is not None:
        ctx.notifications_live = inbox.live


# Requests that steps take up when their next_attempt_at comes (READY ones go by their batch, next_send_at).
TIMED_STATES = {
    RequestState.AWAITING_COMMERCE,
    RequestState.PENDING,
    RequestState.CONFIRMING,
    RequestState.CANCELLED_AT_AMAZON,
    RequestState.REJECTING,
}


def next_due(ctx: WorkerContext) -> float | None:
    """The next moment the worker knows something falls due (None: nothing is waiting, or the database did not
    answer, in which case the plain idle wait applies)."""
    now = ctx.clock()
    try:
        moments = (
            ctx.feeds.next_poll_at(now),
            ctx.cancel_requests.next_attempt_at(TIMED_STATES, now),
            next_send_at(ctx),
        )
    except SQLAlchemyError as exc:
        log.warning("could not read what falls due next", extra={"error": exc.__class__.__name__})
        return None
    return min((moment for moment in moments if moment is not None), default=None)
