"""Confirmation: a clean processing report means Amazon accepted the message; the order reading CANCELLED means
the cancel happened. Only then is Commerce written back.

A batch is confirmed from one mirror refresh that covers every change since the report came in; with the mirror
off, each order is read on its own.
"""

from __future__ import annotations

import logging

from bridge.amazon_order import AmazonOrder, FulfillmentStatus
from bridge.cancel_requests import CancelRequest, epoch
from bridge.errors import UpstreamError
from bridge.job_states import RequestState
from bridge.pipeline.check import LIVE_READS_PER_ROUND
from bridge.pipeline.context import PipelineContext
from bridge.pipeline.mirror import ensure_complete_as_of, mirror_enabled, mirror_is_stale, read_live
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
    orders: dict[str, AmazonOrder] = {}
    if mirror_enabled(ctx):
        reported = max(epoch(r.updated_at) for r in requests)  # when the report put them in CONFIRMING
        retry_at = ensure_complete_as_of(ctx, store, reported)
        if retry_at is None:
            orders = ctx.mirror.get_many((r.amazon_order_id for r in requests), store.marketplace_id)
        elif not mirror_is_stale(ctx, store):
            for request in requests:  # wait for the mirror rather than read a thousand orders one by one
                ctx.requests.release(request, ctx.owner, retry_at, request.last_error or "")
            return 0
    confirmed, live_reads = 0, 0
    for request in requests:
        order = orders.get(request.amazon_order_id)
        if order is None and live_reads >= LIVE_READS_PER_ROUND:
            ctx.requests.release(request, ctx.owner, retry_at=0.0, error=request.last_error or "")
            continue
        if order is None:
            live_reads += 1
            order = _read_live(ctx, store, request)
            if order is None:
                continue
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
