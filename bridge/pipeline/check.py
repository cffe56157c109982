"""Before sending: Amazon's status may have changed since the webhook looked, so look again.

Still Unshipped and seller-fulfilled: ready for a feed. Already CANCELLED: straight to the write-back. Anything else
(shipped meanwhile, ...): never sent; rejected with the reason. The batch is decided from the order mirror after
one refresh that covers every change since the requests were recorded; orders the mirror does not hold (or every
order, with the mirror off) are read one by one.
"""

from __future__ import annotations

import json
import logging

from bridge.amazon_order import AmazonOrder, FulfilledBy, FulfillmentStatus
from bridge.cancel_requests import CancelRequest
from bridge.errors import NotFound, UpstreamError, UpstreamRejected
from bridge.job_states import RequestState
from bridge.pipeline.context import PipelineContext
from bridge.pipeline.mirror import orders_for, read_live
from bridge.stores import Store

log = logging.getLogger(__name__)
BATCH = 500
LIVE_READ_LIMIT = 5  # up to this many orders are read one by one rather than waiting for the mirror
STATUS_CHANGED = "StatusChanged"  # the request's result description then holds Amazon's new status


def check_pending(ctx: PipelineContext) -> int:
    """Look at Amazon again for each pending request; return how many moved on."""
    batches, orphans = ctx.claim_by_store(RequestState.PENDING, BATCH)
    for request in orphans:
        ctx.requests.transition(
            request, ctx.owner, RequestState.FAILED,
            last_error=f"store {request.store_code!r} is no longer in the stores file",
        )  # fmt: skip
    return len(orphans) + sum(_check_store_batch(ctx, store, requests) for store, requests in batches)


def _check_store_batch(ctx: PipelineContext, store: Store, requests: list[CancelRequest]) -> int:
    # Every change since each request last moved (recorded, or back from a failed feed) must be seen; up to
    # LIVE_READ_LIMIT orders are read one by one rather than waiting for the mirror.
    pairs = orders_for(ctx, store, requests, lambda request: _read_live(ctx, store, request), LIVE_READ_LIMIT)
    return sum(_decide(ctx, request, order) for request, order in pairs)


def _read_live(ctx: PipelineContext, store: Store, request: CancelRequest) -> AmazonOrder | None:
    try:
        return read_live(ctx, store, request.amazon_order_id)
    except NotFound as exc:
        _reject(ctx, request, "NotFound", f"Amazon does not know the order ({exc})")
        return None
    except UpstreamRejected as exc:
        ctx.requests.release(request, ctx.owner, ctx.backoff(request.attempts + 1), str(exc))
        log.error("pre-send check refused", extra={"request": request.id, "error": str(exc)})
        return None
    except UpstreamError as exc:
        ctx.requests.release(request, ctx.owner, ctx.backoff(1), str(exc))
        return None


def _decide(ctx: PipelineContext, request: CancelRequest, order: AmazonOrder) -> int:
    if order.fulfilled_by == FulfilledBy.AMAZON:
        return _reject(ctx, request, "AmazonFulfilled", "the order is fulfilled by Amazon")
    if order.status == FulfillmentStatus.CANCELLED:
        ctx.requests.transition(request, ctx.owner, RequestState.CANCELLED_AT_AMAZON)
        return 1
    if order.status == FulfillmentStatus.UNSHIPPED and order.fulfilled_by == FulfilledBy.MERCHANT:
        item_ids = order.item_ids or request.amazon_item_ids
        ctx.requests.transition(request, ctx.owner, RequestState.READY, amazon_item_ids=json.dumps(list(item_ids)))
        return 1
    return _reject(ctx, request, STATUS_CHANGED, order.status)


def _reject(ctx: PipelineContext, request: CancelRequest, code: str, description: str) -> int:
    log.info("cancel not sent", extra={"request": request.id, "amazon_order_id": request.amazon_order_id, "why": code})
    ctx.requests.transition(
        request, ctx.owner, RequestState.REJECTING,
        amazon_result_code=code, amazon_result_description=description,
    )  # fmt: skip
    return 1
