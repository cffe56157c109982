"""Step: nothing goes to Amazon before Commerce has canceled the order itself.

Commerce's word is never enough: its ``after`` hook's claim (signed, but with no nonce: it could be replayed) only
makes the request due at once, and the worker reads the orders back, one Commerce search per batch. Where the hook
never comes (Commerce died between saving and calling, the hook is not installed, or the ``before`` answer came
after Commerce had given up waiting), the worker reads them back on its own schedule. A request whose order reads
``canceled`` moves on; one whose order is still not canceled when ``BRIDGE_COMMERCE_CANCEL_WINDOW_SECONDS`` have
passed ends as not canceled in Commerce, with no Amazon call. While Commerce cannot be read, requests simply wait:
an unreadable order is never taken as canceled.
"""

from __future__ import annotations

import logging

from bridge.deadline import Deadline
from bridge.domain.commerce_order import CommerceState
from bridge.domain.messages import MessageKey, problem
from bridge.domain.records import CancelRequest
from bridge.domain.states import RequestState
from bridge.errors import UpstreamError
from bridge.pipeline.worker_context import STEP_SECONDS, WorkerContext

log = logging.getLogger(__name__)
BATCH = 100  # orders per Commerce search


def confirm_commerce_cancels(ctx: WorkerContext) -> int:
    """Read back the Commerce orders of requests still waiting for their after hook; how many moved on or ended."""
    claimed = ctx.cancel_requests.claim(
        ctx.owner, {RequestState.AWAITING_COMMERCE}, ctx.clock(), ctx.pipeline.lease_seconds, BATCH
    )
    if not claimed:
        return 0
    try:
        states = ctx.commerce.states_of([request.commerce_entity_id for request in claimed], Deadline(STEP_SECONDS))
    except UpstreamError as exc:
        log.warning("cannot read Commerce orders back", extra={"requests": len(claimed), "error": str(exc)})
        for request in claimed:
            ctx.cancel_requests.release(
                request,
                ctx.owner,
                ctx.retry_at(ctx.transient_faults, 1),
                problem(MessageKey.PROBLEM_COMMERCE_READ, error=str(exc)),
            )
        return 0
    return sum(_settle(ctx, request, states.get(request.commerce_entity_id)) for request in claimed)


def _settle(ctx: WorkerContext, request: CancelRequest, commerce_state: str | None) -> int:
    if commerce_state == CommerceState.CANCELED:
        ctx.cancel_requests.move(request, ctx.owner, RequestState.PENDING, next_attempt_at=0.0)
        return 1
    waited = ctx.clock() - request.updated_at.timestamp()
    if waited >= ctx.pipeline.commerce_cancel_window_seconds:
        why = problem(
            MessageKey.PROBLEM_COMMERCE_NEVER_CANCELED,
            commerce_state=commerce_state or "?",
            seconds=f"{waited:.0f}",
        )
        log.warning("cancel not applied in Commerce", extra={"request": request.id, "commerce_state": commerce_state})
        ctx.cancel_requests.move(request, ctx.owner, RequestState.NOT_CANCELED_IN_COMMERCE, last_error=why)
        return 1
    next_look = ctx.clock() + ctx.pipeline.commerce_confirm_seconds
    ctx.cancel_requests.release(
        request, ctx.owner, next_look, problem(MessageKey.PROBLEM_COMMERCE_NOT_YET, commerce_state=str(commerce_state))
    )
    return 0
