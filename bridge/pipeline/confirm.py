"""Confirmation: a clean processing report means Amazon accepted the message; the order reading CANCELLED means
the cancel happened. Only then is Commerce written back.

A batch is confirmed from one mirror refresh that covers every change since the report came in; with the mirror
off, each order is read on its own.
"""

from __future__ import annotations

import logging

from bridge.amazon_order import AmazonOrder, FulfillmentStatus
from bridge.cancel_requests import CancelRequest
from bridge.errors import UpstreamError
from bridge.job_states import RequestState
from bridge.pipeline.context import PipelineContext
from bridge.pipeline.mirror import orders_for, read_live
from bridge.pipeline.poll import next_poll_delay
from bridge.stores import Store

log = logging.getLogger(__name__)
BATCH = 1000


def confirm_cancelled(ctx: PipelineContext) -> int:
    batches, orphans = ctx.claim_by_store(RequestState.CONFIRMING, BATCH)
    confirmed = 0
    for store, requests in batches:
        if ctx.stop.is_set():
            orphans.extend(requests)
            continue
        confirmed += _confirm_batch(ctx, store, requests)
    for request in orphans:  # left for later (a store taken out of the stores file is an operator's call)
        ctx.requests.release(request, ctx.owner, retry_at=ctx.backoff(1), error=request.last_error or "")
    return confirmed


def _confirm_batch(ctx: PipelineContext, store: Store, requests: list[CancelRequest]) -> int:
    # Every change since the report put them in CONFIRMING must be seen: wait for the mirror rather than read a
    # thousand orders one by one.
    confirmed = 0
    for request, order in orders_for(ctx, store, requests, lambda r: _read_live(ctx, store, r), read_live_up_to=0):
        if order.status == FulfillmentStatus.CANCELLED:
            ctx.requests.transition(request, ctx.owner, RequestState.CANCELLED_AT_AMAZON)
            confirmed += 1
        else:
            _not_yet(ctx, request, order.status)
    return confirmed


def _read_live(ctx: PipelineContext, store: Store, request: CancelRequest) -> AmazonOrder | None:
    try:
        return read_live(ctx, store, request.amazon_order_id)
    except UpstreamError as exc:
        ctx.requests.release(request, ctx.owner, ctx.backoff(1), str(exc))
        return None


def _not_yet(ctx: PipelineContext, request: CancelRequest, status: str) -> None:
    checks = request.confirm_checks + 1
    if checks >= ctx.settings.confirm_checks:
        ctx.requests.transition(
            request, ctx.owner, RequestState.FAILED, confirm_checks=checks,
            last_error=f"Amazon accepted the cancel but the order still reads {status}",
        )  # fmt: skip
        return
    ctx.requests.transition(
        request, ctx.owner, RequestState.CONFIRMING, confirm_checks=checks,
        next_attempt_at=ctx.clock() + next_poll_delay(ctx, checks - 1),
    )  # fmt: skip
