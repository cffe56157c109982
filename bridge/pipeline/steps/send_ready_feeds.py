"""Step: send every ready request of one seller and marketplace in one OrderAcknowledgement feed.

createFeedDocument -> upload -> createFeed, each bracketed by a recorded state (``bridge.storage.feed_records``)
so that a crash leaves the feed PREPARING (nothing reached Amazon) or UPLOADED (createFeed may have): the
recover-feeds step sorts those out.
"""

from __future__ import annotations

import logging

from bridge.clients.spapi_operations import CREATE_FEED
from bridge.deadline import Deadline
from bridge.domain.cancel_reasons import CancelReason
from bridge.domain.feed_builder import FEED_CONTENT_TYPE, FEED_TYPE, CancelMessage, build_cancel_feed, check_message
from bridge.domain.messages import MessageKey, problem
from bridge.domain.pacing import send_at
from bridge.domain.records import CancelRequest, FeedRecord, ReadyGroup, RequestOutcome
from bridge.domain.states import FeedState, RequestState
from bridge.domain.stores import Store
from bridge.errors import QuotaExhausted, UpstreamError, UpstreamRejected
from bridge.pipeline.worker_context import STEP_SECONDS, WorkerContext

log = logging.getLogger(__name__)
CREATE_FEED_SETTLE_SECONDS = 600.0  # after an unclear createFeed, wait this long before asking getFeeds


def _send_at(ctx: WorkerContext, group: ReadyGroup) -> float:
    """When the batch is due to go out (adaptive batching: ``bridge.domain.pacing.send_at``)."""
    settings = ctx.pipeline
    # Alone: the only request of its seller and marketplace recorded within the gather time of it (itself).
    since = group.oldest - settings.feed_gather_seconds
    alone = group.count == 1 and ctx.cancel_requests.arrivals(group.key, since) == 1
    return send_at(
        group,
        alone=alone,
        gather_seconds=settings.feed_gather_seconds,
        max_wait_seconds=settings.feed_max_wait_seconds,
        max_messages=settings.feed_max_messages,
    )


def next_send_at(ctx: WorkerContext) -> float | None:
    """When the next batch can go out (None: none is waiting), a createFeed token included: for the worker's idle
    wait, so that a batch leaves when it is due rather than at the next idle round."""
    moments = []
    for group in ctx.cancel_requests.ready_groups(ctx.clock()):
        store = ctx.stores.by_code(group.key[0])
        if store is not None:
            token_at = ctx.clock() + ctx.limiter.seconds_until_available(store.seller_id, CREATE_FEED.name)
            moments.append(max(_send_at(ctx, group), token_at))
    return min(moments, default=None)


def send_ready_feeds(ctx: WorkerContext) -> int:
    """Send one feed per (store, seller, marketplace) that is due and has a createFeed token."""
    sent = 0
    for group in ctx.cancel_requests.ready_groups(ctx.clock()):
        if ctx.stop.is_set():
            break
        store = ctx.stores.by_code(group.key[0])
        if store is None or _send_at(ctx, group) > ctx.clock():
            continue  # (the check step fails requests of a store no longer configured before they are ready)
        if ctx.limiter.available(store.seller_id, CREATE_FEED.name) < 1:
            continue  # no createFeed slot now: let requests gather into a bigger feed
        batch = ctx.feeds.open_batch(
            ctx.owner, group.key, ctx.clock(), ctx.pipeline.lease_seconds, ctx.pipeline.feed_max_messages
        )
        if batch is not None:
            sent += _send(ctx, store, *batch)
    return sent


def _message(request: CancelRequest) -> CancelMessage:
    """The request's message, or ValueError when Amazon's schema would refuse it (and with it the whole feed)."""
    message = CancelMessage(
        message_id=request.message_id or 0,
        amazon_order_id=request.amazon_order_id,
        merchant_order_id=request.increment_id,
        item_ids=request.amazon_item_ids,
        reason=CancelReason(request.reason),
    )
    check_message(message)
    return message


def _sendable(
    ctx: WorkerContext, feed: FeedRecord, requests: list[CancelRequest]
) -> tuple[list[CancelRequest], list[CancelMessage]]:
    """The requests that can go out in this feed, with their messages. The others fail alone, with the reason:

    - one whose message cannot be built (an increment id with a line break, an order without items);
    - a second request for an Amazon order already in the feed (two Commerce orders linked to one Amazon order,
      a duplicate import): Amazon must not receive that cancel twice.
    """
    sendable: dict[str, tuple[CancelRequest, CancelMessage]] = {}
    failures: dict[int, RequestOutcome] = {}
    for request in requests:
        first = sendable.get(request.amazon_order_id)
        try:
            message = _message(request)
        except ValueError as exc:
            why = problem(MessageKey.PROBLEM_MESSAGE_NOT_BUILT, error=str(exc))
        else:
            if first is None:
                sendable[request.amazon_order_id] = (request, message)
                continue
            why = problem(
                MessageKey.PROBLEM_DUPLICATE_REQUEST,
                amazon_order_id=request.amazon_order_id,
                request_id=str(first[0].id),
            )
        log.error("request not sent", extra={"request": request.id, "feed": feed.id, "why": why})
        failures[request.id] = RequestOutcome(
            RequestState.FAILED, {"feed_id": None, "message_id": None, "last_error": why[:2000]}
        )
    if failures:
        ctx.feeds.settle_some(feed, failures)
    return [request for request, _ in sendable.values()], [message for _, message in sendable.values()]


def _send(ctx: WorkerContext, store: Store, feed: FeedRecord, requests: list[CancelRequest]) -> int:
    requests, messages = _sendable(ctx, feed, requests)
    if not requests:
        ctx.feeds.finish(feed, ctx.owner, FeedState.ABANDONED, {})  # nothing left to send
        return 0
    content = build_cancel_feed(store.seller_id, messages)
    try:
        document = ctx.feeds_api.create_feed_document(store, FEED_CONTENT_TYPE, Deadline(STEP_SECONDS))
        ctx.feeds_api.upload(document, content, FEED_CONTENT_TYPE, Deadline(STEP_SECONDS))
    except UpstreamError as exc:
        _give_back(ctx, feed, requests, problem(MessageKey.PROBLEM_FEED_DOCUMENT, error=str(exc)))
        return 0
    if not ctx.feeds.mark_uploaded(feed, ctx.owner, document.feed_document_id, ctx.clock()):
        return 0
    sent_at = ctx.clock()
    try:
        amazon_feed_id = ctx.feeds_api.create_feed(
            store, FEED_TYPE, [feed.marketplace_id], document.feed_document_id, Deadline(STEP_SECONDS)
        )
    except (QuotaExhausted, UpstreamRejected) as exc:
        # A definite "no": Amazon did not create the feed.
        _give_back(ctx, feed, requests, problem(MessageKey.PROBLEM_CREATE_FEED, error=str(exc)))
        return 0
    except UpstreamError as exc:
        # Timeout or 5xx: the feed may exist. Leave it UPLOADED for recover_stale_feeds to look up before any resend,
        # once Amazon has had time to list it.
        log.warning("createFeed outcome unknown", extra={"feed": feed.id, "error": str(exc)})
        ctx.feeds.hold(feed, ctx.owner, until=ctx.clock() + CREATE_FEED_SETTLE_SECONDS)
        return 0
    if ctx.feeds.mark_submitted(feed, ctx.owner, amazon_feed_id, ctx.next_feed_poll(store.seller_id, sent_at)):
        log.info(
            "feed submitted",
            extra={"feed": feed.id, "amazon_feed_id": amazon_feed_id, "messages": len(requests), "store": store.code},
        )
    return 1


def _give_back(ctx: WorkerContext, feed: FeedRecord, requests: list[CancelRequest], error: str) -> None:
    """Nothing reached Amazon. The requests go back to be re-checked (they may ship while they wait), after a
    growing back-off; a lasting refusal (e.g. the app lacks the Feeds role) ends in FAILED for an operator."""
    log.warning("feed not sent", extra={"feed": feed.id, "error": error})
    # ``attempts`` counts the feeds that reached Amazon (see FeedRecords.mark_submitted): this one did not, yet it
    # is a try that failed.
    outcomes = {request.id: ctx.after_failed_feed(request.attempts + 1, error) for request in requests}
    ctx.feeds.finish(feed, ctx.owner, FeedState.ABANDONED, outcomes)
