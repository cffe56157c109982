"""Step: before sending, look at Amazon again, since the order may have changed since the webhook looked.

The same cancel rule as the webhook's decides: still Unshipped and seller-fulfilled, ready for a feed; already
CANCELLED, straight to the write-back; anything else (shipped meanwhile, ...), never sent and rejected with the
reason. The batch is decided from the order mirror after one refresh that covers every change since the requests
were recorded; orders the mirror does not hold (or every order, with the mirror off) are read one by one.
"""

from __future__ import annotations

import json
import logging

from bridge.deadline import Deadline
from bridge.domain.amazon_order import AmazonOrder
from bridge.domain.cancel_rule import Outcome, judge_amazon_order
from bridge.domain.messages import AMAZON_FULFILLED, STATUS_CHANGED, MessageKey
from bridge.domain.records import CancelRequest
from bridge.domain.states import RequestState
from bridge.domain.stores import Store
from bridge.errors import NotFound, UpstreamError, UpstreamRejected
from bridge.pipeline.amazon_view import orders_for
from bridge.pipeline.worker_context import STEP_SECONDS, WorkerContext

log = logging.getLogger(__name__)
BATCH = 500
LIVE_READ_LIMIT = 5  # up to this many orders are read one by one rather than waiting for the mirror


def check_pending(ctx: WorkerContext) -> int:
    """Look at Amazon again for each pending request; return how many moved on."""
    batches, orphans = ctx.claim_by_store(RequestState.PENDING, BATCH)
    for request in orphans:
        ctx.cancel_requests.move(
            request, ctx.owner, RequestState.FAILED,
            last_error=f"store {request.store_code!r} is no longer in the stores file",
        )  # fmt: skip
    return len(orphans) + sum(_check_store_batch(ctx, store, requests) for store, requests in batches)


def _check_store_batch(ctx: WorkerContext, store: Store, requests: list[CancelRequest]) -> int:
    # Every change since each request last moved (recorded, or back from a failed feed) must be seen; up to
    # LIVE_READ_LIMIT orders are read one by one rather than waiting for the mirror.
    pairs = orders_for(ctx, store, requests, lambda request: _read_live(ctx, store, request), LIVE_READ_LIMIT)
    being_canceled = ctx.cancel_requests.amazon_orders_being_canceled(
        {request.amazon_order_id for request in requests}, {request.id for request in requests}
    )
    return sum(_decide(ctx, request, order, being_canceled) for request, order in pairs)


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


def _decide(ctx: WorkerContext, request: CancelRequest, order: AmazonOrder, being_canceled: set[str]) -> int:
    """``being_canceled``: Amazon orders another request sends the cancel of (this batch's ready ones join it)."""
    decision = judge_amazon_order(order)
    if decision.outcome is Outcome.ACCEPT and request.amazon_order_id in being_canceled:
        # Another Commerce order linked to the same Amazon order sends its cancel: wait for Amazon to read
        # CANCELLED, then this one is written back like any order canceled at Amazon already. Never a second message.
        why = f"Amazon order {request.amazon_order_id} is being canceled by another request; waiting for it"
        ctx.cancel_requests.release(request, ctx.owner, ctx.retry_at(ctx.feed_polls, 1), why)
        return 0
    if decision.outcome is Outcome.ACCEPT:
        being_canceled.add(request.amazon_order_id)
        item_ids = order.item_ids or request.amazon_item_ids
        ctx.cancel_requests.move(request, ctx.owner, RequestState.READY, amazon_item_ids=json.dumps(list(item_ids)))
        return 1
    if decision.outcome is Outcome.ALREADY_CANCELLED:
        ctx.cancel_requests.move(request, ctx.owner, RequestState.CANCELLED_AT_AMAZON)
        return 1
    if decision.message_key is MessageKey.AMAZON_FULFILLED:
        return _reject(ctx, request, AMAZON_FULFILLED, "the order is fulfilled by Amazon")
    return _reject(ctx, request, STATUS_CHANGED, order.status)


def _reject(ctx: WorkerContext, request: CancelRequest, code: str, description: str) -> int:
    log.info("cancel not sent", extra={"request": request.id, "amazon_order_id": request.amazon_order_id, "why": code})
    ctx.cancel_requests.move(
        request, ctx.owner, RequestState.REJECTING,
        amazon_result_code=code, amazon_result_description=description,
    )  # fmt: skip
    return 1
