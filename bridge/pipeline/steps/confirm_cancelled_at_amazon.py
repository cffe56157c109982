"""Step: confirm each cancel. A clean processing report means Amazon accepted the message; the order reading
CANCELLED means the cancel happened. Only then is Commerce written back.

A batch is confirmed from one mirror refresh that covers every change since the report came in; a few orders (a
lone cancel) are read live at once instead of waiting out searchOrders' lag of about two minutes; with the mirror
off, each order is read on its own.
"""

from __future__ import annotations

import logging

from bridge.deadline import Deadline
from bridge.domain.amazon_order import AmazonOrder, FulfillmentStatus
from bridge.domain.messages import MessageKey, problem
from bridge.domain.records import CancelRequest
from bridge.domain.states import RequestState
from bridge.domain.stores import Store
from bridge.errors import UpstreamError
from bridge.pipeline.amazon_view import orders_for
from bridge.pipeline.worker_context import STEP_SECONDS, WorkerContext

log = logging.getLogger(__name__)
BATCH = 1000
LIVE_READ_LIMIT = 5  # up to this many orders are read one by one rather than waiting for the mirror


def confirm_cancelled_at_amazon(ctx: WorkerContext) -> int:
    batches, orphans = ctx.claim_by_store(RequestState.CONFIRMING, BATCH)
    confirmed = 0
    for store, requests in batches:
        if ctx.stop.is_set():
            orphans.extend(requests)
            continue
        confirmed += _confirm_batch(ctx, store, requests)
    for request in orphans:  # left for later (a store taken out of the stores file is an operator's call)
        ctx.cancel_requests.release(request, ctx.owner, ctx.retry_at(ctx.transient_faults, 1), request.last_error or "")
    return confirmed


def _confirm_batch(ctx: WorkerContext, store: Store, requests: list[CancelRequest]) -> int:
    # Every change since the report put them in CONFIRMING must be seen: a few orders are read live, a batch waits
    # for the mirror rather than read a thousand orders one by one.
    confirmed = 0
    for request, order in orders_for(ctx, store, requests, lambda r: _read_live(ctx, store, r), LIVE_READ_LIMIT):
        if order.status == FulfillmentStatus.CANCELLED:
            ctx.cancel_requests.move(request, ctx.owner, RequestState.CANCELLED_AT_AMAZON)
            confirmed += 1
        else:
            _not_yet(ctx, request, order.status)
    return confirmed


def _read_live(ctx: WorkerContext, store: Store, request: CancelRequest) -> AmazonOrder | None:
    try:
        return ctx.amazon_status.live(store, request.amazon_order_id, Deadline(STEP_SECONDS))
    except UpstreamError as exc:
        ctx.cancel_requests.release(request, ctx.owner, ctx.retry_at(ctx.transient_faults, 1), str(exc))
        return None


def _not_yet(ctx: WorkerContext, request: CancelRequest, status: str) -> None:
    checks = request.confirm_checks + 1
    if ctx.confirmations.exhausted(checks):
        ctx.cancel_requests.move(
            request, ctx.owner, RequestState.FAILED, confirm_checks=checks,
            last_error=problem(MessageKey.PROBLEM_NEVER_READ_CANCELLED, amazon_status=status),
        )  # fmt: skip
        return
    ctx.cancel_requests.move(
        request, ctx.owner, RequestState.CONFIRMING, confirm_checks=checks,
        next_attempt_at=ctx.retry_at(ctx.confirmations, checks),
    )  # fmt: skip
