"""Following a submitted feed: getFeed at growing intervals, then the processing report, message by message.

A message without error waits for the order to read CANCELLED (confirm.py); a message with an error is rejected
with Amazon's code and description. A FATAL or CANCELLED feed puts its requests back (re-checked before a new
feed), a bounded number of times.
"""

from __future__ import annotations

import logging

from bridge.clients.deadline import Deadline
from bridge.errors import NotFound, UpstreamError
from bridge.feeds import FeedRecord, RequestOutcome
from bridge.job_states import FeedState, RequestState
from bridge.pipeline.context import STEP_SECONDS, PipelineContext
from bridge.processing_report import ProcessingReport, ReportError, decode_report_document, parse_processing_report

log = logging.getLogger(__name__)


def poll_submitted_feeds(ctx: PipelineContext) -> int:
    progressed = 0
    # One feed per claim: a feed's report can take a minute to fetch, and its lease must outlast that.
    for feed in ctx.feeds.claim(ctx.owner, {FeedState.SUBMITTED}, ctx.clock(), ctx.settings.lease_seconds, 1):
        if ctx.stop.is_set():
            ctx.feeds.release(feed, ctx.owner)
            continue
        progressed += _poll(ctx, feed)
    return progressed


def next_poll_delay(ctx: PipelineContext, poll_count: int) -> float:
    settings = ctx.settings
    return min(settings.feed_poll_max_seconds, settings.feed_poll_initial_seconds * 2**poll_count)


def _poll(ctx: PipelineContext, feed: FeedRecord) -> int:
    store = ctx.stores.by_code(feed.store_code)
    if store is None or feed.amazon_feed_id is None:
        ctx.feeds.release(feed, ctx.owner, ctx.clock() + ctx.settings.feed_poll_max_seconds)
        return 0
    try:
        status = ctx.feeds_api.get_feed(store, feed.amazon_feed_id, Deadline(STEP_SECONDS))
        if not status.finished:
            delay = next_poll_delay(ctx, feed.poll_count + 1)
            ctx.feeds.reschedule_poll(feed, ctx.owner, status.processing_status, ctx.clock() + delay)
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
        ctx.feeds.release(feed, ctx.owner, ctx.clock() + next_poll_delay(ctx, feed.poll_count))
        return 0
    return _apply_report(ctx, feed, report, status.result_document_id)


def _apply_report(ctx: PipelineContext, feed: FeedRecord, report: ProcessingReport, result_document_id: str) -> int:
    outcomes: dict[int, RequestOutcome] = {}
    for request in ctx.requests.in_feed(feed.id):
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


def _confirm_by_status(ctx: PipelineContext, feed: FeedRecord) -> int:
    outcomes = {
        r.id: RequestOutcome(RequestState.CONFIRMING, {"next_attempt_at": 0.0, "last_error": "report unreadable"})
        for r in ctx.requests.in_feed(feed.id)
        if r.state == RequestState.SUBMITTED
    }
    ctx.feeds.finish(feed, ctx.owner, FeedState.DONE, outcomes, processing_status="DONE")
    return 1


def _abandon(ctx: PipelineContext, feed: FeedRecord, processing_status: str) -> int:
    """FATAL or CANCELLED: some, none or all messages may have been applied; re-check, then resend (bounded)."""
    outcomes: dict[int, RequestOutcome] = {}
    for request in ctx.requests.in_feed(feed.id):
        error = f"feed {feed.amazon_feed_id} ended {processing_status}"
        if request.attempts >= ctx.settings.max_feed_attempts:  # attempts counts this feed already
            outcomes[request.id] = RequestOutcome(RequestState.FAILED, {"last_error": error})
        else:
            outcomes[request.id] = RequestOutcome(
                RequestState.PENDING,
                {"feed_id": None, "message_id": None, "next_attempt_at": ctx.backoff(request.attempts),
                 "last_error": error},
            )  # fmt: skip
    log.warning("feed failed at Amazon", extra={"feed": feed.id, "status": processing_status})
    ctx.feeds.finish(feed, ctx.owner, FeedState.ABANDONED, outcomes, processing_status=processing_status)
    return 1
