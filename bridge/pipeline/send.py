"""Sending: every ready request of one seller and marketplace goes out in one OrderAcknowledgement feed.

createFeedDocument -> upload -> createFeed, each bracketed by a recorded state (bridge/feeds.py) so that a crash
leaves the feed PREPARING (nothing reached Amazon) or UPLOADED (createFeed may have): recover.py sorts those out.
"""

from __future__ import annotations

import logging

from bridge.cancel_requests import CancelRequest, ReadyGroup
from bridge.clients.deadline import Deadline
from bridge.clients.spapi_operations import CREATE_FEED
from bridge.errors import QuotaExhausted, UpstreamError, UpstreamRejected
from bridge.feed_xml import FEED_CONTENT_TYPE, FEED_TYPE, CancelMessage, build_cancel_feed
from bridge.feeds import FeedRecord, RequestOutcome
from bridge.job_states import FeedState, RequestState
from bridge.pipeline.context import STEP_SECONDS, PipelineContext
from bridge.reasons import CancelReason
from bridge.stores import Store

log = logging.getLogger(__name__)


def due(ctx: PipelineContext, group: ReadyGroup, now: float) -> bool:
    """Adaptive batching: while cancels keep arriving (a mass cancel), let them gather into one feed.

    Send once none has joined for ``feed_gather_seconds``, or the oldest has waited ``feed_max_wait_seconds``, or
    the batch is full. An idle bridge thus sends a lone cancel within seconds; a busy one sends few large feeds.
    """
    settings = ctx.settings
    return (
        group.count >= settings.feed_max_messages
        or now - group.newest >= settings.feed_gather_seconds
        or now - group.oldest >= settings.feed_max_wait_seconds
    )


def send_ready(ctx: PipelineContext) -> int:
    """Send one feed per (store, seller, marketplace) that is due and has a createFeed token."""
    sent = 0
    for group in ctx.requests.ready_groups(ctx.clock()):
        if ctx.stop.is_set():
            break
        store = ctx.stores.by_code(group.key[0])
        if store is None or not due(ctx, group, ctx.clock()):
            continue  # (check.py fails requests of a store no longer configured before they are ready)
        if ctx.limiter.available(store.seller_id, CREATE_FEED.name) < 1:
            continue  # no createFeed slot now: let requests gather into a bigger feed
        batch = ctx.feeds.open_batch(
            ctx.owner, group.key, ctx.clock(), ctx.settings.lease_seconds, ctx.settings.feed_max_messages
        )
        if batch is not None:
            sent += _send(ctx, store, *batch)
    return sent


def _messages(requests: list[CancelRequest]) -> list[CancelMessage]:
    return [
        CancelMessage(
            message_id=request.message_id or 0,
            amazon_order_id=request.amazon_order_id,
            merchant_order_id=request.increment_id,
            item_ids=request.amazon_item_ids,
            reason=CancelReason(request.reason),
        )
        for request in requests
    ]


def _send(ctx: PipelineContext, store: Store, feed: FeedRecord, requests: list[CancelRequest]) -> int:
    content = build_cancel_feed(store.seller_id, _messages(requests))
    try:
        document = ctx.feeds_api.create_feed_document(store, FEED_CONTENT_TYPE, Deadline(STEP_SECONDS))
        ctx.feeds_api.upload(document, content, FEED_CONTENT_TYPE, Deadline(STEP_SECONDS))
    except UpstreamError as exc:
        _give_back(ctx, feed, requests, f"feed document: {exc}")
        return 0
    if not ctx.feeds.mark_uploaded(feed, ctx.owner, document.feed_document_id, ctx.clock()):
        return 0
    try:
        amazon_feed_id = ctx.feeds_api.create_feed(
            store, FEED_TYPE, [feed.marketplace_id], document.feed_document_id, Deadline(STEP_SECONDS)
        )
    except (QuotaExhausted, UpstreamRejected) as exc:
        # A definite "no": Amazon did not create the feed.
        _give_back(ctx, feed, requests, f"createFeed: {exc}")
        return 0
    except UpstreamError as exc:
        # Timeout or 5xx: the feed may exist. Leave it UPLOADED for recover.py to look up before any resend.
        log.warning("createFeed outcome unknown", extra={"feed": feed.id, "error": str(exc)})
        ctx.feeds.release(feed, ctx.owner)
        return 0
    next_poll = ctx.clock() + ctx.settings.feed_poll_initial_seconds
    if ctx.feeds.mark_submitted(feed, ctx.owner, amazon_feed_id, next_poll):
        log.info(
            "feed submitted",
            extra={"feed": feed.id, "amazon_feed_id": amazon_feed_id, "messages": len(requests), "store": store.code},
        )
    return 1


def _give_back(ctx: PipelineContext, feed: FeedRecord, requests: list[CancelRequest], error: str) -> None:
    """Nothing reached Amazon: the requests wait for the next feed, after a back-off."""
    log.warning("feed not sent", extra={"feed": feed.id, "error": error})
    retry_at = ctx.backoff(1)
    ctx.feeds.finish(
        feed,
        ctx.owner,
        FeedState.ABANDONED,
        {r.id: RequestOutcome(RequestState.READY, {"feed_id": None, "message_id": None, "next_attempt_at": retry_at,
                                                   "last_error": error[:2000]}) for r in requests},
    )  # fmt: skip
