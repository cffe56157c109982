"""Confirmation: a clean processing report means Amazon accepted the message; the order reading CANCELLED means
the cancel happened. Only then is Commerce written back."""

from __future__ import annotations

import logging

from bridge.amazon_order import FulfillmentStatus
from bridge.clients.deadline import Deadline
from bridge.errors import UpstreamError
from bridge.job_states import RequestState
from bridge.pipeline.context import STEP_SECONDS, PipelineContext
from bridge.pipeline.poll import next_poll_delay

log = logging.getLogger(__name__)
BATCH = 10


def confirm_cancelled(ctx: PipelineContext) -> int:
    confirmed = 0
    claimed = ctx.requests.claim(ctx.owner, {RequestState.CONFIRMING}, ctx.clock(), ctx.settings.lease_seconds, BATCH)
    for request in claimed:
        store = ctx.stores.by_code(request.store_code)
        if ctx.stop.is_set() or store is None:
            ctx.requests.release(request, ctx.owner, retry_at=ctx.clock(), error=request.last_error or "")
            continue
        try:
            order = ctx.orders.get_order(store, request.amazon_order_id, Deadline(STEP_SECONDS))
        except UpstreamError as exc:
            ctx.requests.release(request, ctx.owner, ctx.backoff(1), str(exc))
            continue
        if order.status == FulfillmentStatus.CANCELLED:
            ctx.requests.transition(request, ctx.owner, RequestState.CANCELLED_AT_AMAZON)
            confirmed += 1
            continue
        checks = request.confirm_checks + 1
        if checks >= ctx.settings.confirm_checks:
            ctx.requests.transition(
                request, ctx.owner, RequestState.FAILED, confirm_checks=checks,
                last_error=f"Amazon accepted the cancel but the order still reads {order.status}",
            )  # fmt: skip
            continue
        ctx.requests.transition(
            request, ctx.owner, RequestState.CONFIRMING, confirm_checks=checks,
            next_attempt_at=ctx.clock() + next_poll_delay(ctx, checks - 1),
        )  # fmt: skip
    return confirmed
