"""Step: write back. Once Amazon confirms, the Commerce order becomes Complete, with an audit comment for admins.

The order is read first: Complete is never written over a closed (refunded) order, nor, for a cancel the bridge
started, over an order Commerce could not cancel (put on hold meanwhile): those get the comment only
(``cancel_rule.may_overwrite_with_complete``). ``POST /V1/orders`` sets state and status (comments cannot, on
2.4.7+), always with the increment id; the order is read back because Commerce's own state handler can rewrite
state on save. A rejected request only gets a comment.
Every step is idempotent (a marker in the comment tells whether it was written), so a worker killed half-way and a
Commerce outage only delay the write-back: it is retried with back-off, never dropped.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from bridge.deadline import Deadline
from bridge.domain.cancel_rule import may_overwrite_with_complete
from bridge.domain.commerce_order import CommerceState
from bridge.domain.messages import REFUSED_BY_RULE, STATUS_CHANGED, MessageKey, problem, render
from bridge.domain.reconciliation import REFLECT_COMMENT_ONLY, who_canceled
from bridge.domain.records import CancelRequest
from bridge.domain.states import RequestState, Source
from bridge.errors import UpstreamError
from bridge.pipeline.worker_context import STEP_SECONDS, WorkerContext
from bridge.storage.feed_records import FeedRecords
from bridge.storage.tables import utcnow

log = logging.getLogger(__name__)
BATCH = 200


def marker(request: CancelRequest, rejection: int = 0) -> str:
    """What tells that a comment was written. A request that starts over after a rejection may be rejected again
    or succeed, and each of those outcomes has its own comment: the ``rejection``-th refusal is marked apart."""
    suffix = f"/not-canceled-{rejection}" if rejection else ""
    return f"[amazon-cancel-bridge #{request.id}{suffix}]"


def sets_complete(request: CancelRequest) -> bool:
    """Canceled at Amazon: the Commerce order becomes Complete, unless the merchant chose comments only for cancels
    made at Amazon outside the bridge."""
    return request.state == RequestState.CANCELLED_AT_AMAZON and request.decision != REFLECT_COMMENT_ONLY


def audit_comment(
    request: CancelRequest, locale: str, feeds: FeedRecords, rejection: int = 0, left_as: str | None = None
) -> str:
    """The comment for what became of the request; ``left_as``: the Commerce state Complete was not written over."""
    if left_as is not None:
        text = render(
            MessageKey.AUDIT_CANCELED_LEFT_AS_IS, locale, amazon_order_id=request.amazon_order_id,
            commerce_state=left_as,
        )  # fmt: skip
    elif request.source == Source.AMAZON:
        key = (
            MessageKey.AUDIT_CANCELED_OUTSIDE
            if sets_complete(request)
            else MessageKey.AUDIT_CANCELED_OUTSIDE_COMMENT_ONLY
        )
        text = render(
            key, locale, amazon_order_id=request.amazon_order_id,
            canceled_by=render(who_canceled(request.amazon_cancelled_by), locale),
            reason=request.amazon_cancel_reason or render(MessageKey.NO_REASON_GIVEN, locale),
        )  # fmt: skip
    elif request.state == RequestState.REJECTING and request.amazon_result_code == STATUS_CHANGED:
        text = render(
            MessageKey.AUDIT_NOT_SENT, locale, amazon_order_id=request.amazon_order_id,
            amazon_status=request.amazon_result_description or "?",
        )  # fmt: skip
    elif request.state == RequestState.REJECTING and request.amazon_result_code == REFUSED_BY_RULE:
        text = render(
            MessageKey.AUDIT_NOT_SENT_BY_RULE, locale, amazon_order_id=request.amazon_order_id,
            why=_refusal_words(request, locale),
        )  # fmt: skip
    elif request.state == RequestState.REJECTING:
        answer = request.amazon_result_description or "no reason given"
        if request.amazon_result_code:
            answer += f" ({request.amazon_result_code})"
        text = render(MessageKey.AUDIT_REJECTED, locale, amazon_order_id=request.amazon_order_id, answer=answer)
    elif request.feed_id is None:
        text = render(MessageKey.AUDIT_ALREADY_CANCELED, locale, amazon_order_id=request.amazon_order_id)
    else:
        feed = feeds.get(request.feed_id)
        feed_id = (feed.amazon_feed_id if feed else None) or str(request.feed_id)
        if request.source in (Source.CONSOLE, Source.API):
            text = render(
                MessageKey.AUDIT_CANCELED_BY_OPERATOR, locale, amazon_order_id=request.amazon_order_id,
                actor=request.actor or "?", source=request.source, reason=request.reason, feed_id=feed_id,
            )  # fmt: skip
            return f"{text} {marker(request, rejection)}"
        key = (
            MessageKey.AUDIT_CANCELED_ON_BUYER_REQUEST
            if request.source == Source.BUYER_REQUEST
            else MessageKey.AUDIT_CANCELED_AT_AMAZON
        )
        text = render(
            key, locale, amazon_order_id=request.amazon_order_id,
            reason=request.reason, feed_id=feed_id,
        )  # fmt: skip
    return f"{text} {marker(request, rejection)}"


def _refusal_words(request: CancelRequest, locale: str) -> str:
    """What the rule's refusal (its message key, kept as the result description) tells the admin."""
    try:
        key = MessageKey(request.amazon_result_description or "")
    except ValueError:
        return request.amazon_result_description or ""
    return render(
        key, locale, amazon_order_id=request.amazon_order_id, amazon_status="?", commerce_state="?",
        order_ref=f"#{request.increment_id or request.commerce_entity_id}",
    )  # fmt: skip


def write_back(ctx: WorkerContext) -> int:
    """Write back a batch, ``write_back_concurrency`` orders at a time (each takes three or four Commerce calls)."""
    claimed = ctx.cancel_requests.claim(
        ctx.owner, {RequestState.CANCELLED_AT_AMAZON, RequestState.REJECTING}, ctx.clock(),
        ctx.pipeline.lease_seconds, BATCH,
    )  # fmt: skip
    if not claimed:
        return 0
    with ThreadPoolExecutor(max_workers=ctx.pipeline.write_back_concurrency) as pool:
        return sum(pool.map(lambda request: _write_back_one(ctx, request), claimed))


def _write_back_one(ctx: WorkerContext, request: CancelRequest) -> int:
    if ctx.stop.is_set():
        ctx.cancel_requests.release(request, ctx.owner, retry_at=ctx.clock(), error=request.last_error or "")
        return 0
    try:
        _write_one(ctx, request)
    except UpstreamError as exc:
        log.warning("write-back delayed", extra={"request": request.id, "error": str(exc)})
        ctx.cancel_requests.release(
            request,
            ctx.owner,
            ctx.retry_at(ctx.transient_faults, 1),
            problem(MessageKey.PROBLEM_COMMERCE_WRITE_BACK, error=str(exc)),
        )
        return 0
    return 1


def _write_one(ctx: WorkerContext, request: CancelRequest) -> None:
    store = ctx.stores.by_code(request.store_code)
    locale = store.locale if store else ctx.settings.default_locale
    entity_id = request.commerce_entity_id
    current = ctx.commerce.order_state(entity_id, Deadline(STEP_SECONDS))
    complete = (CommerceState.COMPLETE, CommerceState.COMPLETE)
    left_as = None
    if sets_complete(request) and not may_overwrite_with_complete(request.source, current.state):
        left_as = current.state or "?"
    elif sets_complete(request) and (current.state, current.status) != complete:
        increment_id = request.increment_id or current.increment_id or ""
        ctx.commerce.set_state_and_status(
            entity_id, increment_id, CommerceState.COMPLETE, CommerceState.COMPLETE, Deadline(STEP_SECONDS)
        )
        current = ctx.commerce.order_state(entity_id, Deadline(STEP_SECONDS))
        if (current.state, current.status) != complete:
            raise UpstreamError("Commerce", f"order {entity_id} reads {current.state}/{current.status} after the write")
    if current.state:
        ctx.links.note_state(entity_id, current.state)
    rejection = 0 if request.state == RequestState.CANCELLED_AT_AMAZON else _rejections(ctx, request)
    if not any(marker(request, rejection) in comment for comment in current.comments):
        comment = audit_comment(request, locale, ctx.feeds, rejection, left_as)
        ctx.commerce.add_comment(entity_id, comment, Deadline(STEP_SECONDS))
    final = RequestState.COMPLETED if request.state == RequestState.CANCELLED_AT_AMAZON else RequestState.REJECTED
    ctx.cancel_requests.move(request, ctx.owner, final, completed_at=utcnow())
    log.info(
        "written back",
        extra={"request": request.id, "commerce_entity_id": entity_id, "state": final.value, "left_as": left_as},
    )


def _rejections(ctx: WorkerContext, request: CancelRequest) -> int:
    """Which refusal of this request is being written back (1 for the first; a request from before timelines: 1)."""
    return max(1, sum(1 for event in ctx.request_queries.timeline(request.id) if event.state == RequestState.REJECTING))
