"""Step: before sending, apply the cancel rule again, since the store, the Commerce order or the Amazon order may
have changed since the request was accepted.

The same rule as at every door decides (``bridge.domain.cancel_rule.decide``): the store still configured with order
import on; for a cancel the bridge started, the Commerce order still in a state Commerce could cancel (read live,
one Commerce search per batch: a hold placed meanwhile stops the cancel); Amazon's view still Unshipped and
seller-fulfilled, ready for a feed; already CANCELLED, straight to the write-back; anything else, never sent and
rejected with the reason. Amazon's view comes from the order mirror after one refresh that covers every change
since the requests were recorded; orders the mirror does not hold (or every order, with the mirror off) are read one
by one.
"""

from __future__ import annotations

import json
import logging

from bridge.deadline import Deadline
from bridge.domain.amazon_order import AmazonOrder
from bridge.domain.cancel_reasons import CancelReason
from bridge.domain.cancel_rule import AMAZON_STATUS_REFUSALS, Decision, Outcome, before_amazon, decide
from bridge.domain.messages import AMAZON_FULFILLED, REFUSED_BY_RULE, STATUS_CHANGED, MessageKey, problem
from bridge.domain.records import CancelRequest
from bridge.domain.states import STARTED_AT_BRIDGE, RequestState
from bridge.domain.stores import Store
from bridge.errors import NotFound, UpstreamError, UpstreamRejected
from bridge.pipeline.amazon_view import orders_for
from bridge.pipeline.worker_context import STEP_SECONDS, WorkerContext

log = logging.getLogger(__name__)
BATCH = 500
LIVE_READ_LIMIT = 5  # up to this many orders are read one by one rather than waiting for the mirror
COMMERCE_BATCH = 100  # orders per Commerce search


def check_pending(ctx: WorkerContext) -> int:
    """Look at Amazon again for each pending request; return how many moved on."""
    batches, orphans = ctx.claim_by_store(RequestState.PENDING, BATCH)
    for request in orphans:
        ctx.cancel_requests.move(
            request, ctx.owner, RequestState.FAILED,
            last_error=problem(MessageKey.PROBLEM_STORE_GONE, store_code=request.store_code),
        )  # fmt: skip
    return len(orphans) + sum(_check_store_batch(ctx, store, requests) for store, requests in batches)


def _check_store_batch(ctx: WorkerContext, store: Store, requests: list[CancelRequest]) -> int:
    commerce_states = _commerce_states(ctx, [r for r in requests if r.source in STARTED_AT_BRIDGE])
    if commerce_states is None:  # Commerce cannot be read: the bridge's own cancels wait, never sent unchecked
        requests = [r for r in requests if r.source not in STARTED_AT_BRIDGE]
    moved, to_ask = 0, []
    for request in requests:
        commerce_state = _commerce_state_of(request, commerce_states)
        refusal = before_amazon(store, request.source, commerce_state)
        if refusal is None:
            to_ask.append(request)
        else:
            moved += _refuse(ctx, request, refusal, None)
    if not to_ask:
        return moved
    # Every change since each request last moved (recorded, or back from a failed feed) must be seen; up to
    # LIVE_READ_LIMIT orders are read one by one rather than waiting for the mirror.
    pairs = orders_for(ctx, store, to_ask, lambda request: _read_live(ctx, store, request), LIVE_READ_LIMIT)
    being_canceled = ctx.cancel_requests.amazon_orders_being_canceled(
        {request.amazon_order_id for request in to_ask}, {request.id for request in to_ask}
    )
    return moved + sum(
        _decide(ctx, store, request, order, _commerce_state_of(request, commerce_states), being_canceled)
        for request, order in pairs
    )


def _commerce_states(ctx: WorkerContext, requests: list[CancelRequest]) -> dict[int, str | None] | None:
    """The live Commerce state of the orders of the bridge's own cancels; None (each released for later) when
    Commerce cannot be read."""
    states: dict[int, str | None] = {}
    ids = [request.commerce_entity_id for request in requests]
    try:
        for start in range(0, len(ids), COMMERCE_BATCH):
            states.update(ctx.commerce.states_of(ids[start : start + COMMERCE_BATCH], Deadline(STEP_SECONDS)))
    except UpstreamError as exc:
        log.warning("cannot read Commerce orders before sending", extra={"requests": len(ids), "error": str(exc)})
        for request in requests:
            ctx.cancel_requests.release(
                request,
                ctx.owner,
                ctx.retry_at(ctx.transient_faults, 1),
                problem(MessageKey.PROBLEM_COMMERCE_READ, error=str(exc)),
            )
        return None
    return states


def _commerce_state_of(request: CancelRequest, states: dict[int, str | None] | None) -> str | None:
    """What the rule is given of the Commerce order: for a cancel made in Commerce, nothing (Commerce decided, and
    the request reached here only once the order read canceled); for the bridge's own, its state ("" if unknown)."""
    if request.source not in STARTED_AT_BRIDGE:
        return None
    return (states or {}).get(request.commerce_entity_id) or ""


def _read_live(ctx: WorkerContext, store: Store, request: CancelRequest) -> AmazonOrder | None:
    try:
        return ctx.amazon_status.live(store, request.amazon_order_id, Deadline(STEP_SECONDS))
    except NotFound as exc:
        _reject(ctx, request, "NotFound", f"Amazon does not know the order ({exc})")
        return None
    except UpstreamRejected as exc:
        ctx.cancel_requests.release(
            request, ctx.owner, ctx.retry_at(ctx.transient_faults, request.attempts + 1), str(exc)
        )
        log.error("pre-send check refused", extra={"request": request.id, "error": str(exc)})
        return None
    except UpstreamError as exc:
        ctx.cancel_requests.release(request, ctx.owner, ctx.retry_at(ctx.transient_faults, 1), str(exc))
        return None


def _decide(
    ctx: WorkerContext,
    store: Store,
    request: CancelRequest,
    order: AmazonOrder,
    commerce_state: str | None,
    being_canceled: set[str],
) -> int:
    """``being_canceled``: Amazon orders another request sends the cancel of (this batch's ready ones join it)."""
    decision = decide(store, request.source, commerce_state, order, CancelReason(request.reason))
    if decision.outcome is Outcome.ACCEPT and request.amazon_order_id in being_canceled:
        # Another Commerce order linked to the same Amazon order sends its cancel: wait for Amazon to read
        # CANCELLED, then this one is written back like any order canceled at Amazon already. Never a second message.
        why = problem(MessageKey.PROBLEM_CANCELED_BY_ANOTHER, amazon_order_id=request.amazon_order_id)
        # Its feed may take minutes at Amazon: look again after the back-off, not at the feed-poll cadence.
        ctx.cancel_requests.release(request, ctx.owner, ctx.retry_at(ctx.transient_faults, 1), why)
        return 0
    if decision.outcome is Outcome.ACCEPT:
        being_canceled.add(request.amazon_order_id)
        item_ids = order.item_ids or request.amazon_item_ids
        ctx.cancel_requests.move(request, ctx.owner, RequestState.READY, amazon_item_ids=json.dumps(list(item_ids)))
        return 1
    if decision.outcome is Outcome.ALREADY_CANCELLED:
        ctx.cancel_requests.move(request, ctx.owner, RequestState.CANCELLED_AT_AMAZON)
        return 1
    return _refuse(ctx, request, decision, order)


def _refuse(ctx: WorkerContext, request: CancelRequest, decision: Decision, order: AmazonOrder | None) -> int:
    """Never sent: the write-back tells the Commerce admin why (Amazon's status, or what else the rule found)."""
    if decision.message_key is MessageKey.AMAZON_FULFILLED:
        return _reject(ctx, request, AMAZON_FULFILLED, "the order is fulfilled by Amazon")
    if decision.message_key in AMAZON_STATUS_REFUSALS and order is not None:
        return _reject(ctx, request, STATUS_CHANGED, order.status)
    return _reject(ctx, request, REFUSED_BY_RULE, decision.code)


def _reject(ctx: WorkerContext, request: CancelRequest, code: str, description: str) -> int:
    log.info("cancel not sent", extra={"request": request.id, "amazon_order_id": request.amazon_order_id, "why": code})
    ctx.cancel_requests.move(
        request, ctx.owner, RequestState.REJECTING,
        amazon_result_code=code, amazon_result_description=description,
    )  # fmt: skip
    return 1
