"""Takes in one cancel: from Commerce, in Commerce's two phases, or started at the bridge (console, API).

``before``: find the order, apply the cancel rule, and record an accepted cancel as waiting for Commerce. Nothing
goes to Amazon yet: answering ``success`` is not the cancel, since Commerce still applies its own ``canCancel()`` and
gives up on an answer that came after the hook's timeout. ``after``: Commerce says whether it really canceled; a
refusal ends the request at once, a claimed cancel has the worker read the order back at once (the claim alone sends
nothing); the worker reads the order back on its own where that hook never comes.

A cancel started at the bridge (``cancel_at_bridge``) is decided by the same rule (``bridge.domain.cancel_rule``),
with the Commerce order's state read live (Commerce's own cancel would refuse a held, in-review or closed order, so
the bridge does too) and its reason checked; it has no Commerce cancel to wait for: it is recorded at ``pending``,
with its source and who asked for it.

Fails closed: whatever could not be checked (Commerce, Amazon, quota, the database) is refused with a message that
says to try again, never accepted unverified.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.exc import SQLAlchemyError

from bridge.clients.commerce import CommerceClient
from bridge.deadline import Deadline
from bridge.domain.amazon_order import AmazonOrder
from bridge.domain.cancel_reasons import CancelReason, choose_reason
from bridge.domain.cancel_rule import (
    AMAZON_STATUS_REFUSALS,
    STORE_REFUSALS,
    Decision,
    Outcome,
    before_amazon,
    decide,
)
from bridge.domain.messages import MessageKey, problem, render
from bridge.domain.order_importers import Importer
from bridge.domain.records import CancelRequest, NewCancelRequest, OrderLink
from bridge.domain.states import RequestState, Source, TransitionRefused, can_restart, restart_state
from bridge.domain.stores import Store, StoreDirectory
from bridge.errors import NotFound, UpstreamError
from bridge.services.amazon_status import AmazonStatus
from bridge.storage.cancel_requests import CancelRequests
from bridge.storage.order_links import OrderLinks
from bridge.storage.order_mirror import MirrorLookup
from bridge.storage.tables import COMMERCE_REQUEST_ID_LENGTH

log = logging.getLogger(__name__)

# What ``before_cancel`` decides (the hooks' metric labels): the rule's outcomes and its refusals of a cancel made in
# Commerce (whose Commerce order and reason the rule leaves to Commerce), and the intake's own answers.
BEFORE_DECISIONS: tuple[str, ...] = (
    Outcome.ACCEPT, Outcome.ALREADY_CANCELLED, *sorted(STORE_REFUSALS), MessageKey.AMAZON_FULFILLED,
    *sorted(AMAZON_STATUS_REFUSALS), MessageKey.NOT_FOUND_AT_AMAZON, "not_amazon", "under_way", "unavailable",
)  # fmt: skip
# What ``after_cancel`` makes of Commerce's after hook.
AFTER_DECISIONS: tuple[str, ...] = ("read_back", "not_canceled", "nothing_waiting")


@dataclass(frozen=True)
class CancelAnswer:
    """What to tell Commerce, plus what the log line needs to know about how it was reached."""

    op: str  # "success" or "exception"
    message: str | None
    decision: str
    increment_id: str | None = None
    amazon_order_id: str | None = None
    store_code: str | None = None
    amazon_status: str | None = None

    @classmethod
    def proceed(cls, decision: str, **context: str | None) -> CancelAnswer:
        return cls("success", None, decision, **context)

    @classmethod
    def stop(cls, decision: str, message: str, **context: str | None) -> CancelAnswer:
        return cls("exception", message, decision, **context)


@dataclass(frozen=True)
class OrderRef:
    """An order as a person or a tool names it: by its Commerce number or by its Amazon order id."""

    increment_id: str | None = None
    amazon_order_id: str | None = None

    def __str__(self) -> str:
        return f"#{self.increment_id}" if self.increment_id else str(self.amazon_order_id)


class BridgeCancelOutcome(StrEnum):
    ACCEPTED = "accepted"  # recorded at pending: the pipeline sends it
    REFUSED = "refused"  # the cancel rule (or the order's identity) says no; ``message`` says what to do instead
    UNDER_WAY = "under_way"  # a cancel of the order is already under way
    ALREADY_COMPLETED = "already_completed"  # the order's cancel is done: canceled at Amazon, written back


@dataclass(frozen=True)
class BridgeCancelAnswer:
    outcome: BridgeCancelOutcome
    decision: str
    message: str | None
    request: CancelRequest | None = None

    commerce_state: str | None = None  # with a refusal: the Commerce order's state, as read

    @classmethod
    def refused(cls, decision: str, message: str, commerce_state: str | None = None) -> BridgeCancelAnswer:
        return cls(BridgeCancelOutcome.REFUSED, decision, message, commerce_state=commerce_state)


@dataclass(frozen=True)
class _Judged:
    """The cancel rule's answer: ``verdict`` when the cancel may go on (with ``reason``), else ``refusal`` (the
    admin's message)."""

    store: Store | None
    order: AmazonOrder | None
    verdict: Decision | None
    decision: str
    refusal: str | None
    reason: CancelReason | None = None

    def context(self, link: OrderLink, amazon_order_id: str) -> dict[str, str | None]:
        return {
            "increment_id": link.increment_id,
            "amazon_order_id": amazon_order_id,
            "store_code": self.store.code if self.store else None,
            "amazon_status": self.order.status if self.order else None,
        }


class CancelIntake:
    def __init__(
        self,
        commerce: CommerceClient,
        amazon_status: AmazonStatus,
        links: OrderLinks,
        cancel_requests: CancelRequests,
        stores: StoreDirectory,
        default_locale: str,
        commerce_confirm_seconds: float,
        order_importers: tuple[Importer, ...],
    ) -> None:
        self._commerce = commerce
        self._amazon_status = amazon_status
        self._links = links
        self._requests = cancel_requests
        self._stores = stores
        self._default_locale = default_locale
        self._commerce_confirm_seconds = commerce_confirm_seconds  # when the worker reads the order back itself
        self._order_importers = order_importers

    # --- before ---------------------------------------------------------------------------------------------------
    def before_cancel(self, entity_id: int, commerce_request_id: str | None, deadline: Deadline) -> CancelAnswer:
        """Decide whether Commerce may go on with the cancel of order ``entity_id``.

        What the bridge's records say of the order (its request, its link, the mirror's entry) is read in one
        statement, and an accepted cancel is recorded in one write (on PostgreSQL: two round trips in all)."""
        try:
            view = self._requests.before_hook_view(entity_id, self._stores)
            recorded = view.request
            if recorded is not None and not can_restart(recorded.state):
                # A retry, double click or replay of a cancel under way: it goes on as it is.
                return CancelAnswer.proceed("under_way", **_context_of(recorded))
            link = view.link or self._read_link(entity_id, deadline)
            if link.amazon_order_id is None:
                return CancelAnswer.proceed("not_amazon", increment_id=link.increment_id)
            return self._decide(link, link.amazon_order_id, recorded, commerce_request_id, deadline, view.mirrored)
        except (UpstreamError, SQLAlchemyError) as exc:
            # Commerce or the bridge's own database: nothing was decided, nothing recorded.
            log.warning("cancel could not be checked: %s", exc.__class__.__name__, extra={"error": str(exc)[:300]})
            return self._unavailable(entity_id)

    def _read_link(self, entity_id: int, deadline: Deadline) -> OrderLink:
        """An order not in the link mirror yet: read from Commerce (an order never changes its Amazon link)."""
        link = OrderLink.of(self._commerce.get_order(entity_id, deadline), self._order_importers)
        self._links.remember([link])
        return link

    def _decide(
        self,
        link: OrderLink,
        amazon_order_id: str,
        recorded: CancelRequest | None,
        commerce_request_id: str | None,
        deadline: Deadline,
        seen: MirrorLookup | None,
    ) -> CancelAnswer:
        judged = self._judge(
            link, amazon_order_id, deadline, Source.COMMERCE, commerce_state=None, reason=None, seen=seen
        )
        context = judged.context(link, amazon_order_id)
        if judged.refusal is not None:
            return CancelAnswer.stop(judged.decision, judged.refusal, **context)
        new = _new_request(
            link, judged, source=Source.COMMERCE,
            commerce_request_id=(commerce_request_id or "")[:COMMERCE_REQUEST_ID_LENGTH] or None,
        )  # fmt: skip
        confirm_after = self._commerce_confirm_seconds
        if recorded is None:
            if not self._requests.record(new, confirm_after):
                return CancelAnswer.proceed("under_way", **context)  # the same cancel, recorded a moment ago
        else:
            try:
                self._requests.start_over(recorded, new, confirm_after)
            except TransitionRefused:
                return CancelAnswer.proceed("under_way", **context)  # started over by a concurrent call
        return CancelAnswer.proceed(judged.decision, **context)

    def _judge(
        self,
        link: OrderLink,
        amazon_order_id: str,
        deadline: Deadline,
        source: Source,
        commerce_state: str | None,
        reason: CancelReason | None,
        locale: str | None = None,
        seen: MirrorLookup | None = None,
    ) -> _Judged:
        """The cancel rule, for every door: the checks that need no Amazon call, then Amazon's view (from the
        mirror while fresh: ``seen``, when the caller read it already), then the whole rule with the reason
        (``reason`` None: the one the order calls for)."""
        store = self._stores.for_commerce_store(link.commerce_store_id)
        locale = locale or (store.locale if store else self._default_locale)
        words = {
            "amazon_order_id": amazon_order_id,
            "order_ref": f"#{link.increment_id or link.commerce_entity_id}",
            "commerce_state": commerce_state or "?",
        }

        def refuse(decision: str, key: MessageKey, order: AmazonOrder | None = None) -> _Judged:
            message = render(key, locale, **words, amazon_status=order.status if order else "?")
            return _Judged(store, order, None, decision, message)

        early = before_amazon(store, source, commerce_state)
        if early is not None:
            assert early.message_key is not None
            return refuse(early.code, early.message_key)
        assert store is not None  # before_amazon refuses a missing store
        try:
            order = self._amazon_status.fresh_or_live(store, amazon_order_id, deadline, seen)
        except NotFound:
            return refuse("not_found_at_amazon", MessageKey.NOT_FOUND_AT_AMAZON)
        except UpstreamError as exc:
            log.warning("Amazon status of %s unconfirmed: %s", amazon_order_id, exc)
            return refuse("unavailable", MessageKey.STATUS_UNCONFIRMED)
        chosen = reason or choose_reason(order.buyer_requested_cancel, store.default_cancel_reason)
        verdict = decide(store, source, commerce_state, order, chosen)
        if verdict.outcome is Outcome.REFUSE:
            assert verdict.message_key is not None
            return refuse(verdict.code, verdict.message_key, order)
        if deadline.remaining() <= 0:  # the caller may have given up already: say so rather than record
            return refuse("unavailable", MessageKey.STATUS_UNCONFIRMED, order)
        return _Judged(store, order, verdict, verdict.code, None, chosen)

    def _unavailable(self, entity_id: int) -> CancelAnswer:
        message = render(MessageKey.BRIDGE_UNAVAILABLE, self._default_locale, order_ref=f"#{entity_id}")
        return CancelAnswer.stop("unavailable", message)

    # --- started at the bridge ------------------------------------------------------------------------------------
    def cancel_at_bridge(
        self,
        order_ref: OrderRef,
        reason: CancelReason | None,
        source: Source,
        actor: str,
        deadline: Deadline,
        locale: str | None = None,
    ) -> BridgeCancelAnswer:
        """An operator's (console) or a tool's (API) cancel: the same rule as the hook, with the Commerce order's
        state read live (one Commerce call) and the reason checked against the order; nothing to wait for in
        Commerce. The request starts at pending, and its Commerce order is set Complete once Amazon confirms.

        Messages are in ``locale`` (the console user's), else in the store's. UpstreamError and SQLAlchemyError pass
        through: the caller says "try again" in its own format.
        """
        links = self._find(order_ref, deadline)
        if len(links) != 1:
            key = MessageKey.ORDER_NUMBER_AMBIGUOUS if links else MessageKey.ORDER_NOT_KNOWN
            message = render(key, locale or self._default_locale, order_ref=str(order_ref))
            return BridgeCancelAnswer.refused(key.value, message)
        [link] = links
        if link.amazon_order_id is None:
            message = render(MessageKey.NOT_AN_AMAZON_ORDER, locale or self._default_locale, order_ref=str(order_ref))
            return BridgeCancelAnswer.refused("not_amazon", message)
        recorded = self._requests.for_commerce_order(link.commerce_entity_id)
        if recorded is not None and not can_restart(recorded.state):
            return self._under_way(recorded, locale)
        commerce_order = self._commerce.get_order(link.commerce_entity_id, deadline)
        self._links.remember([OrderLink.of(commerce_order, self._order_importers)])  # what was just seen
        judged = self._judge(link, link.amazon_order_id, deadline, source, commerce_order.state or "", reason, locale)
        if judged.refusal is not None:
            return BridgeCancelAnswer.refused(judged.decision, judged.refusal, commerce_order.state)
        new = _new_request(link, judged, source=source, actor=actor)
        try:
            if recorded is None:
                if not self._requests.record(new, entry=restart_state(source)):
                    recorded = self._requests.for_commerce_order(link.commerce_entity_id)
                    assert recorded is not None
                    return self._under_way(recorded, locale)  # a concurrent cancel recorded it first
            else:
                self._requests.start_over(recorded, new, confirm_after=0.0)
        except TransitionRefused:
            return self._under_way(self._requests.get(recorded.id) or recorded, locale)  # type: ignore[union-attr]
        request = self._requests.for_commerce_order(link.commerce_entity_id)
        assert request is not None
        log.info(
            "cancel started at the bridge",
            extra={"request": request.id, "source": source.value, "actor": actor, "reason": request.reason,
                   "amazon_order_id": link.amazon_order_id, "decision": judged.decision},
        )  # fmt: skip
        return BridgeCancelAnswer(BridgeCancelOutcome.ACCEPTED, judged.decision, None, request)

    def _find(self, order_ref: OrderRef, deadline: Deadline) -> list[OrderLink]:
        """The Commerce order(s) the caller means: by Amazon order id, the first imported (a second Commerce order
        of the same Amazon order is a duplicate import, and the Amazon cancel is one either way); by number, every
        one that has it, so that an ambiguous number is refused rather than guessed."""
        if order_ref.amazon_order_id is not None:
            links = self._links.of_amazon_orders([order_ref.amazon_order_id]).get(order_ref.amazon_order_id, [])
            return links[:1]
        assert order_ref.increment_id is not None
        links = self._links.with_number(order_ref.increment_id)
        if not links:  # not in the link mirror yet: ask Commerce
            links = [
                OrderLink.of(order, self._order_importers)
                for order in self._commerce.orders_with_number(order_ref.increment_id, deadline)
            ]
            self._links.remember(links)
        return links

    def _under_way(self, request: CancelRequest, locale: str | None) -> BridgeCancelAnswer:
        """A cancel of the order exists and has not ended without a cancel: under way, or done."""
        store = self._stores.by_code(request.store_code)
        outcome, key = (
            (BridgeCancelOutcome.ALREADY_COMPLETED, MessageKey.ALREADY_COMPLETED)
            if request.state == RequestState.COMPLETED
            else (BridgeCancelOutcome.UNDER_WAY, MessageKey.CANCEL_UNDER_WAY)
        )
        message = render(
            key, locale or (store.locale if store else self._default_locale),
            amazon_order_id=request.amazon_order_id, request_state=request.state, request_id=str(request.id),
        )  # fmt: skip
        return BridgeCancelAnswer(outcome, outcome.value, message, request)

    # --- after ----------------------------------------------------------------------------------------------------
    def after_cancel(self, entity_id: int, canceled: bool) -> str:
        """Commerce ran its cancel of ``entity_id``: ``canceled`` is its result. Returns what became of the request.

        A claimed cancel is confirmed, not obeyed: the worker reads the order back at once (one Commerce search per
        batch) and sends nothing until Commerce's data shows the order canceled. A refusal ends the request: it
        can only stop a cancel, never send one."""
        if canceled:
            return "read_back" if self._requests.read_back_now(entity_id) else "nothing_waiting"
        if self._requests.not_canceled_in_commerce(entity_id, problem(MessageKey.PROBLEM_COMMERCE_REFUSED)):
            return "not_canceled"
        return "nothing_waiting"  # not an Amazon order, refused, or already confirmed (a repeated hook)


def _new_request(link: OrderLink, judged: _Judged, *, source: Source, **more: str | None) -> NewCancelRequest:
    """The request a cancel the rule let through records."""
    assert judged.store is not None and judged.order is not None and judged.verdict is not None
    assert judged.reason is not None
    return NewCancelRequest.at_store(
        judged.store, commerce_entity_id=link.commerce_entity_id, increment_id=link.increment_id,
        amazon_order_id=judged.order.order_id, marketplace_id=judged.order.marketplace_id,
        amazon_item_ids=judged.order.item_ids, reason=judged.reason.value, decision=judged.verdict.outcome.value,
        source=source, **more,
    )  # fmt: skip


def _context_of(request: CancelRequest) -> dict[str, str | None]:
    return {
        "increment_id": request.increment_id,
        "amazon_order_id": request.amazon_order_id,
        "store_code": request.store_code,
    }
