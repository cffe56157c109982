"""Step: feeds a worker left half-sent (it died, or createFeed's answer was lost) are finished by the next worker.

PREPARING: createFeed was never called, so nothing reached Amazon. UPLOADED: createFeed may have been accepted.
Before anything is sent again, Amazon's own list of feeds is searched for one created after our upload that the
bridge does not know; if there is one, it is ours and we follow it instead of sending a second cancel. Requests
that do go back are re-checked (the check step) first, so an order Amazon already canceled is never sent again.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from bridge.deadline import Deadline
from bridge.domain.feed_builder import FEED_TYPE
from bridge.domain.messages import MessageKey, problem
from bridge.domain.records import FeedRecord, RequestOutcome
from bridge.domain.states import FeedState, RequestState
from bridge.errors import UpstreamError
from bridge.pipeline.worker_context import STEP_SECONDS, WorkerContext

log = logging.getLogger(__name__)
CLOCK_SKEW_SECONDS = 300.0


def recover_stale_feeds(ctx: WorkerContext) -> int:
    recovered = 0
    for feed in ctx.feeds.claim(
        ctx.owner, {FeedState.PREPARING, FeedState.UPLOADED}, ctx.clock(), ctx.pipeline.lease_seconds, 5
    ):
        if feed.state == FeedState.PREPARING:
            _requeue(ctx, feed, problem(MessageKey.PROBLEM_STOPPED_BEFORE_SENDING))
            recovered += 1
        else:
            recovered += _recover_uploaded(ctx, feed)
    return recovered


def _recover_uploaded(ctx: WorkerContext, feed: FeedRecord) -> int:
    store = ctx.stores.by_code(feed.store_code)
    if store is None:
        ctx.feeds.release(feed, ctx.owner)
        return 0
    since = datetime.fromtimestamp((feed.uploaded_at or 0) - CLOCK_SKEW_SECONDS, UTC)
    try:
        candidates = ctx.feeds_api.get_feeds(store, FEED_TYPE, feed.marketplace_id, since, Deadline(STEP_SECONDS))
    except UpstreamError as exc:
        log.warning("cannot list feeds to recover", extra={"feed": feed.id, "error": str(exc)})
        ctx.feeds.release(feed, ctx.owner)
        return 0
    known = ctx.feeds.known_amazon_feed_ids(feed.seller_id)
    unknown = sorted((c for c in candidates if c.feed_id not in known), key=lambda c: c.created_time)
    if unknown:
        adopted = unknown[0]
        log.warning(
            "adopting a feed created before a crash", extra={"feed": feed.id, "amazon_feed_id": adopted.feed_id}
        )
        if not ctx.feeds.mark_submitted(feed, ctx.owner, adopted.feed_id, ctx.clock()):
            ctx.feeds.release(feed, ctx.owner)  # another worker adopted it first: look again next round
    else:
        _requeue(ctx, feed, problem(MessageKey.PROBLEM_FEED_NOT_CREATED))
    return 1


def _requeue(ctx: WorkerContext, feed: FeedRecord, why: str) -> None:
    """Back to PENDING: re-read at Amazon before any new feed."""
    requests = ctx.feeds.requests_in(feed.id)
    log.warning("requeueing a feed's requests", extra={"feed": feed.id, "requests": len(requests), "why": why})
    ctx.feeds.finish(
        feed,
        ctx.owner,
        FeedState.ABANDONED,
        {r.id: RequestOutcome(RequestState.PENDING, {"feed_id": None, "message_id": None, "last_error": why})
         for r in requests},
    )  # fmt: skip
