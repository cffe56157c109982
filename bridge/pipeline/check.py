"""Before sending: Amazon's status may have changed since the webhook looked, so read the order again.

Still Unshipped and seller-fulfilled: ready for a feed. Already CANCELLED: straight to the write-back. Anything else
(shipped meanwhile, ...): never sent; rejected with the reason.
"""

from __future__ import annotations

import json
import logging

from bridge.amazon_order import FulfilledBy, FulfillmentStatus
from bridge.cancel_requests import CancelRequest
from bridge.clients.deadline import Deadline
from bridge.errors import NotFound, UpstreamError, UpstreamRejected
from bridge.job_states import RequestState
from bridge.pipeline.context import STEP_SECONDS, PipelineContext

log = logging.getLogger(__name__)
BATCH = 10
STATUS_CHANGED = "StatusChanged"  # the request's result description then holds Amazon's new status


def check_pending(ctx: PipelineContext) -> int:
    """Re-read the Amazon order of each pending request; return how many moved on."""
    claimed = ctx.requests.claim(ctx.owner, {RequestState.PENDING}, ctx.clock(), ctx.settings.lease_seconds, BATCH)
    moved = 0
    for index, request in enumerate(claimed):
        if ctx.stop.is_set():
            for left in claimed[index:]:
                ctx.requests.release(left, ctx.owner, retry_at=0.0, error=left.last_error or "")
            break
        moved += _check_one(ctx, request)
    return moved


def _check_one(ctx: PipelineContext, request: CancelRequest) -> int:
    store = ctx.stores.by_code(request.store_code)
    if store is None:
        ctx.requests.transition(
            request, ctx.owner, RequestState.FAILED,
            last_error=f"store {request.store_code!r} is no longer in the stores file",
        )  # fmt: skip
        return 1
    try:
        order = ctx.orders.get_order(store, request.amazon_order_id, Deadline(STEP_SECONDS))
    except NotFound as exc:
        return _reject(ctx, request, "NotFound", f"Amazon does not know the order ({exc})")
    except UpstreamRejected as exc:
        ctx.requests.release(request, ctx.owner, ctx.backoff(request.attempts + 1), str(exc))
        log.error("pre-send check refused", extra={"request": request.id, "error": str(exc)})
        return 0
    except UpstreamError as exc:
        ctx.requests.release(request, ctx.owner, ctx.backoff(1), str(exc))
        return 0
    if order.fulfilled_by == FulfilledBy.AMAZON:
        return _reject(ctx, request, "AmazonFulfilled", "the order is fulfilled by Amazon")
    if order.status == FulfillmentStatus.CANCELLED:
        ctx.requests.transition(request, ctx.owner, RequestState.CANCELLED_AT_AMAZON)
        return 1
    if order.status == FulfillmentStatus.UNSHIPPED and order.fulfilled_by == FulfilledBy.MERCHANT:
        ctx.requests.transition(
            request, ctx.owner, RequestState.READY, amazon_item_ids=json.dumps(list(order.item_ids))
        )
        return 1
    return _reject(ctx, request, STATUS_CHANGED, order.status)


def _reject(ctx: PipelineContext, request: CancelRequest, code: str, description: str) -> int:
    log.info("cancel not sent", extra={"request": request.id, "amazon_order_id": request.amazon_order_id, "why": code})
    ctx.requests.transition(
        request, ctx.owner, RequestState.REJECTING,
        amazon_result_code=code, amazon_result_description=description,
    )  # fmt: skip
    return 1
