"""Step: follow each submitted feed: getFeed at growing intervals, then the processing report, message by message.

A message without error waits for the order to read CANCELLED (the confirm step); a message with an error is rejected
with Amazon's code and description. A FATAL or CANCELLED feed puts its requests back (re-checked before a new
feed), a bounded number of times.
"""

from __future__ import annotations

import logging

from bridge.deadline import Deadline
from bridge.domain.processing_report import (
    ProcessingReport,
    ReportError,
    decode_report_document,
    parse_processing_report,
)
from bridge.domain.records import FeedRecord, RequestOutcome
from bridge.domain.states import FeedState, RequestState
from bridge.errors import NotFound, UpstreamError
from bridge.pipeline.worker_context import STEP_SECONDS, WorkerContext

log = logging.getLogger(__name__)


def poll_submitted_feeds(ctx: WorkerContext) -> int:
    progressed = 0
    # One feed per claim: a feed's report can take a minute to fetch, and its lease must outlast that.
    for feed in ctx.feeds.claim(ctx.owner, {FeedState.SUBMITTED}, ctx.clock(), ctx.pipeline.lease_seconds, 1):
        if ctx.stop.is_set():
            ctx.feeds.release(feed, ctx.owner)
            continue
        progressed += _poll(ctx, feed)
    return progressed


def _poll(ctx: WorkerContext, feed: FeedRecord) -> int:
    store = ctx.stores.by_code(feed.store_code)
    if store is None or feed.amazon_feed_id is None:
        ctx.feeds.release(feed, ctx.owner, ctx.clock() + ctx.pipeline.feed_poll_max_seconds)
        return 0
    looks = feed.poll_count + 1  # createFeed's answer, and every getFeed that found the feed still processing
    try:
        status = ctx.feeds_api.get_feed(store, feed.amazon_feed_id, Deadline(STEP_SECONDS))
        if not status.finished:
            next_poll = ctx.retry_at(ctx.feed_polls, looks + 1)
            ctx.feeds.reschedule_poll(feed, ctx.owner, status.processing_status, next_poll)
            return 0
        if status.processing_status != "DONE" or status.result_document_id is None:
            return _abandon(ctx, feed, status.processing_status)
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
        log.warning("feed poll failed", extra={"feed": feed.id, "error": str(exc)})
        ctx.feeds.release(feed, ctx.owner, ctx.retry_at(ctx.feed_polls, looks))
        return 0
    return _apply_report(ctx, feed, report, status.result_document_id)


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
        r.id: RequestOutcome(RequestState.CONFIRMING, {"next_attempt_at": 0.0, "last_error": "report unreadable"})
        for r in ctx.feeds.requests_in(feed.id)
        if r.state == RequestState.SUBMITTED
    }
    ctx.feeds.finish(feed, ctx.owner, FeedState.DONE, outcomes, processing_status="DONE")
    return 1


def _abandon(ctx: WorkerContext, feed: FeedRecord, processing_status: str) -> int:
    """FATAL or CANCELLED: some, none or all messages may have been applied; re-check, then resend (bounded)."""
    error = f"feed {feed.amazon_feed_id} ended {processing_status}"
    # ``attempts`` already counts this feed (it was counted when Amazon accepted it).
    outcomes = {
        request.id: ctx.after_failed_feed(request.attempts, error) for request in ctx.feeds.requests_in(feed.id)
    }
    log.warning("feed failed at Amazon", extra={"feed": feed.id, "status": processing_status})
    ctx.feeds.finish(feed, ctx.owner, FeedState.ABANDONED, outcomes, processing_status=processing_status)
    return 1
