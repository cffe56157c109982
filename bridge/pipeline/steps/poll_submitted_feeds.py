"""Step: follow each submitted feed: getFeed on a short fixed cadence within the seller's quota (a slow backstop
while Amazon's notifications are live; ``bridge.domain.pacing``), then the processing report, message by message.

Feeds are polled longest-overdue first, and only with a getFeed token free now: when a seller's feeds want more
polls than its quota gives, the rest wait their turn in the database, in order, instead of a worker waiting (or
Amazon answering 429). The report is fetched only with a getFeedDocument token free now, else the feed comes back
when there is one.

A message without error waits for the order to read CANCELLED (the confirm step); a message with an error is rejected
with Amazon's code and description. A FATAL or CANCELLED feed puts its requests back (re-checked before a new
feed), a bounded number of times.
"""

from __future__ import annotations

import logging

from bridge.clients.spapi_operations import GET_FEED, GET_FEED_DOCUMENT
from bridge.deadline import Deadline
from bridge.domain.messages import MessageKey, problem
from bridge.domain.processing_report import (
    ProcessingReport,
    ReportError,
    decode_report_document,
    parse_processing_report,
)
from bridge.domain.records import FeedRecord, RequestOutcome
from bridge.domain.states import FeedState, RequestState
from bridge.domain.stores import Store
from bridge.errors import NotFound, UpstreamError, UpstreamUnavailable
from bridge.metrics import FEED_POLLS
from bridge.pipeline.worker_context import STEP_SECONDS, WorkerContext

log = logging.getLogger(__name__)


def poll_submitted_feeds(ctx: WorkerContext) -> int:
    """Poll every feed that is due, as far as the quotas allow now; how many feeds were settled."""
    progressed = 0
    out_of_quota: set[str] = set()  # sellers whose getFeed bucket is empty: their feeds keep their turn
    # One feed per claim: a feed's report can take a minute to fetch, and its lease must outlast that. A round
    # polls the feeds due when it began (one polled now is due again later, in a later round), for at most one
    # step's budget, so the other steps keep their pace however many feeds are due.
    started = ctx.clock()
    while not ctx.stop.is_set() and ctx.clock() < started + STEP_SECONDS:
        feed = ctx.feeds.claim_next_poll(ctx.owner, started, ctx.pipeline.lease_seconds, out_of_quota)
        if feed is None:
            break
        if ctx.limiter.seconds_until_available(feed.seller_id, GET_FEED.name) > 0:
            ctx.feeds.release(feed, ctx.owner)
            out_of_quota.add(feed.seller_id)
            continue
        progressed += _poll(ctx, feed)
    return progressed


def _poll(ctx: WorkerContext, feed: FeedRecord) -> int:
    store = ctx.stores.by_code(feed.store_code)
    if store is None or feed.amazon_feed_id is None:
        ctx.feeds.release(feed, ctx.owner, ctx.clock() + ctx.pipeline.feed_poll_backstop_seconds)
        return 0
    asked_at = ctx.clock()
    try:
        status = ctx.feeds_api.get_feed(store, feed.amazon_feed_id, Deadline(STEP_SECONDS))
        if not status.finished:
            FEED_POLLS.labels("in_progress").inc()
            next_poll = ctx.next_feed_poll(feed.seller_id, asked_at)
            ctx.feeds.reschedule_poll(feed, ctx.owner, status.processing_status, next_poll)
            return 0
        if status.processing_status != "DONE" or status.result_document_id is None:
            FEED_POLLS.labels("failed").inc()
            return _abandon(ctx, feed, status.processing_status)
        FEED_POLLS.labels("done").inc()
        report_wait = ctx.limiter.seconds_until_available(feed.seller_id, GET_FEED_DOCUMENT.name)
        if report_wait > 0:  # getFeedDocument refills one call every 45 s: come back for the report then
            ctx.feeds.reschedule_poll(feed, ctx.owner, status.processing_status, ctx.clock() + report_wait)
            return 0
        document = ctx.feeds_api.get_feed_document(store, status.result_document_id, Deadline(STEP_SECONDS))
        raw, content_type = ctx.feeds_api.download(document, Deadline(STEP_SECONDS))
        report = parse_processing_report(decode_report_document(raw, document.compression_algorithm, content_type))
    except ReportError as exc:
        # A report the bridge cannot read: let each order's own status decide instead of polling forever.
        log.error("unreadable processing report", extra={"feed": feed.id, "error": str(exc)})
        return _confirm_by_status(ctx, feed)
    except NotFound:
        return _abandon(ctx, feed, "NOT_FOUND")
    except UpstreamError as exc:
        FEED_POLLS.labels("error").inc()
        log.warning("feed poll failed", extra={"feed": feed.id, "error": str(exc)})
        ctx.feeds.release(feed, ctx.owner, _after_fault(ctx, store, exc, asked_at))
        return 0
    return _apply_report(ctx, feed, report, status.result_document_id)


def _after_fault(ctx: WorkerContext, store: Store, exc: UpstreamError, asked_at: float) -> float:
    """When to poll again after a call that failed: at the usual pace when Amazon was only busy or briefly away
    (the client already backed off within its budget), after the transient back-off when it refused outright."""
    if isinstance(exc, UpstreamUnavailable):
        return ctx.next_feed_poll(store.seller_id, asked_at)
    return ctx.retry_at(ctx.transient_faults, 1)


def _apply_report(ctx: WorkerContext, feed: FeedRecord, report: ProcessingReport, result_document_id: str) -> int:
    outcomes: dict[int, RequestOutcome] = {}
    for request in ctx.feeds.requests_in(feed.id):
        if request.state != RequestState.SUBMITTED:
            continue
        error = report.error_for(request.message_id or 0)
        if error is None:
            outcomes[request.id] = RequestOutcome(RequestState.CONFIRMING, {"next_attempt_at": 0.0})
        else:
            outcomes[request.id] = RequestOutcome(
                RequestState.REJECTING,
                {"amazon_result_code": error.message_code or error.result_code,
                 "amazon_result_description": error.description},
            )  # fmt: skip
    log.info(
        "feed report applied",
        extra={"feed": feed.id, "amazon_feed_id": feed.amazon_feed_id, "messages": len(outcomes),
               "errors": sum(o.state == RequestState.REJECTING for o in outcomes.values())},
    )  # fmt: skip
    ctx.feeds.finish(
        feed, ctx.owner, FeedState.DONE, outcomes, processing_status="DONE", result_document_id=result_document_id
    )
    return 1


def _confirm_by_status(ctx: WorkerContext, feed: FeedRecord) -> int:
    outcomes = {
        r.id: RequestOutcome(
            RequestState.CONFIRMING,
            {"next_attempt_at": 0.0, "last_error": problem(MessageKey.PROBLEM_REPORT_UNREADABLE)},
        )
        for r in ctx.feeds.requests_in(feed.id)
        if r.state == RequestState.SUBMITTED
    }
    ctx.feeds.finish(feed, ctx.owner, FeedState.DONE, outcomes, processing_status="DONE")
    return 1


def _abandon(ctx: WorkerContext, feed: FeedRecord, processing_status: str) -> int:
    """FATAL or CANCELLED: some, none or all messages may have been applied; re-check, then resend (bounded)."""
    error = problem(
        MessageKey.PROBLEM_FEED_ENDED, feed_id=str(feed.amazon_feed_id), processing_status=processing_status
    )
    # ``attempts`` already counts this feed (it was counted when Amazon accepted it).
    outcomes = {
        request.id: ctx.after_failed_feed(request.attempts, error) for request in ctx.feeds.requests_in(feed.id)
    }
    log.warning("feed failed at Amazon", extra={"feed": feed.id, "status": processing_status})
    ctx.feeds.finish(feed, ctx.owner, FeedState.ABANDONED, outcomes, processing_status=processing_status)
    return 1
