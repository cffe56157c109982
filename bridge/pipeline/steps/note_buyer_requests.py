"""Step: a buyer's request to cancel, seen at Amazon, becomes one audit comment on the Commerce order.

The comment says that the buyer asked, why, and that canceling in Commerce now sends ``BuyerCanceled`` (which does
not count toward the seller's Cancellation Rate). It carries a marker, so a worker killed after writing it never
writes it twice; it does not notify the customer (that would e-mail the Amazon buyer from Commerce).
"""

from __future__ import annotations

import logging

from bridge.deadline import Deadline
from bridge.domain.messages import MessageKey, render
from bridge.errors import UpstreamError
from bridge.pipeline.worker_context import STEP_SECONDS, WorkerContext
from bridge.storage.buyer_cancel_notes import BuyerCancelNote

log = logging.getLogger(__name__)
BATCH = 50


def marker(note: BuyerCancelNote) -> str:
    return f"[amazon-cancel-bridge buyer-request {note.amazon_order_id}]"


def note_buyer_requests(ctx: WorkerContext) -> int:
    noted = 0
    for note in ctx.buyer_notes.claim_due(ctx.owner, ctx.clock(), ctx.pipeline.lease_seconds, BATCH):
        store = ctx.stores.by_code(note.store_code)
        locale = store.locale if store else ctx.settings.default_locale
        reason = note.reason or render(MessageKey.NO_REASON_GIVEN, locale)
        text = render(MessageKey.AUDIT_BUYER_REQUESTED, locale, amazon_order_id=note.amazon_order_id, reason=reason)
        try:
            current = ctx.commerce.order_state(note.commerce_entity_id, Deadline(STEP_SECONDS))
            if not any(marker(note) in comment for comment in current.comments):
                ctx.commerce.add_comment(note.commerce_entity_id, f"{text} {marker(note)}", Deadline(STEP_SECONDS))
        except UpstreamError as exc:
            log.warning("buyer request not flagged yet", extra={"amazon_order_id": note.amazon_order_id,
                                                                "error": str(exc)})  # fmt: skip
            ctx.buyer_notes.later(note, ctx.owner, ctx.retry_at(ctx.transient_faults, 1))
            continue
        ctx.buyer_notes.noted(note, ctx.owner)
        noted += 1
    return noted
