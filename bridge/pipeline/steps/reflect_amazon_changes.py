"""Step: what happens to an order at Amazon outside the bridge reaches its Commerce order.

From the two mirrors (the Amazon order mirror and the Commerce link mirror), with no extra call:
- an order canceled at Amazon (by the seller in Seller Central, the buyer or Amazon) whose Commerce order is still
  open gets a cancel request that starts at ``cancelled_at_amazon``: the write-back step ends the Commerce order the
  way Adobe's Amazon Sales Channel does (Complete, read back, one audit comment; or, with
  ``BRIDGE_AMAZON_CANCELS=comment``, the comment only);
- a buyer's request to cancel an Unshipped order is flagged once on the Commerce order (the buyer-notes step
  writes the comment), or, with ``BRIDGE_BUYER_CANCEL_REQUESTS=cancel``, canceled at Amazon by the bridge with
  ``BuyerCanceled`` and then written back Complete, where the cancel rule lets the bridge cancel it as it would
  let any other door (order import on, the Commerce order one Commerce could cancel); else it is flagged.
Nothing here sends anything to Amazon; the unique request per Commerce order makes every reflection happen once.
"""

from __future__ import annotations

import logging
from typing import Any

from bridge.domain.amazon_order import AmazonOrder
from bridge.domain.cancel_reasons import CancelReason
from bridge.domain.cancel_rule import Outcome, decide
from bridge.domain.reconciliation import (
    REFLECT_COMMENT_ONLY,
    REFLECT_COMPLETE,
    AmazonCancels,
    BuyerCancelRequests,
    OrderPair,
    flags_buyer_request,
    reflects_amazon_cancel,
)
from bridge.domain.records import NewCancelRequest
from bridge.domain.states import RequestState, Source
from bridge.pipeline.worker_context import WorkerContext

log = logging.getLogger(__name__)
BATCH = 200


def reflect_amazon_changes(ctx: WorkerContext) -> int:
    """Record what the mirrors show happened at Amazon; how many orders it concerned."""
    reflected = sum(_reflect_cancel(ctx, pair) for pair in ctx.pairs.canceled_at_amazon_open_in_commerce(BATCH))
    return reflected + sum(_reflect_buyer_request(ctx, pair) for pair in ctx.pairs.buyer_requests_not_yet_seen(BATCH))


def _new_request(ctx: WorkerContext, pair: OrderPair, **values: Any) -> NewCancelRequest | None:
    """A request for the pair's orders; None when its store is no longer in the stores file."""
    store = ctx.stores.by_code(pair.store_code)
    if store is None:
        return None
    return NewCancelRequest.at_store(
        store, commerce_entity_id=pair.commerce_entity_id, increment_id=pair.increment_id,
        amazon_order_id=pair.amazon_order_id, **values,
    )  # fmt: skip


def _reflect_cancel(ctx: WorkerContext, pair: OrderPair) -> int:
    if not reflects_amazon_cancel(pair):
        return 0
    decision = REFLECT_COMMENT_ONLY if ctx.settings.amazon_cancels is AmazonCancels.COMMENT else REFLECT_COMPLETE
    request = _new_request(
        ctx, pair, reason="", decision=decision, source=Source.AMAZON,
        amazon_cancelled_by=pair.cancelled_by, amazon_cancel_reason=pair.cancel_reason,
    )  # fmt: skip
    if request is None:
        return 0
    restart_of = ctx.cancel_requests.get(pair.request_id) if pair.request_id is not None else None
    if not ctx.cancel_requests.record_amazon_cancel(request, restart_of):
        return 0
    log.info(
        "canceled at Amazon outside the bridge",
        extra={"amazon_order_id": pair.amazon_order_id, "commerce_entity_id": pair.commerce_entity_id,
               "cancelled_by": pair.cancelled_by, "decision": decision},
    )  # fmt: skip
    return 1


def _reflect_buyer_request(ctx: WorkerContext, pair: OrderPair) -> int:
    if not flags_buyer_request(pair):
        return 0
    order = _cancelable_order(ctx, pair) if ctx.settings.buyer_requests is BuyerCancelRequests.CANCEL else None
    if order is not None:
        request = _new_request(
            ctx, pair, reason=CancelReason.BUYER_CANCELED.value, decision="accept", source=Source.BUYER_REQUEST,
            amazon_item_ids=order.item_ids,
        )  # fmt: skip
        return int(request is not None and ctx.cancel_requests.record(request, entry=RequestState.PENDING))
    noted = ctx.buyer_notes.add(
        pair.amazon_order_id, pair.commerce_entity_id, pair.store_code, pair.buyer_cancel_reason
    )
    return int(noted)


def _cancelable_order(ctx: WorkerContext, pair: OrderPair) -> AmazonOrder | None:
    """The Amazon order, if the cancel rule lets the bridge cancel it (as for every door, on what the two mirrors
    show; the worker checks again before sending); None: the request is flagged instead."""
    store = ctx.stores.by_code(pair.store_code)
    order = ctx.mirror.get_many([pair.amazon_order_id], _marketplace(ctx, pair)).get(pair.amazon_order_id)
    if order is None:
        return None
    decision = decide(store, Source.BUYER_REQUEST, pair.commerce_state, order, CancelReason.BUYER_CANCELED)
    return order if decision.outcome is Outcome.ACCEPT else None


def _marketplace(ctx: WorkerContext, pair: OrderPair) -> str:
    store = ctx.stores.by_code(pair.store_code)
    return store.marketplace_id if store else ""
