"""Takes in one cancel: from Commerce, in Commerce's two phases, or started at the bridge (console, API).

``before``: find the order, apply the cancel rule, and record an accepted cancel as waiting for Commerce. Nothing
goes to Amazon yet: answering ``success`` is not the cancel, since Commerce still applies its own ``canCancel()`` and
gives up on an answer that came after the hook's timeout. ``after``: Commerce says whether it really canceled, and
the request moves on (or ends) at once; the worker reads the order back where that hook never comes.

A cancel started at the bridge (``cancel_at_bridge``) is decided by the same rule, but has no Commerce cancel to
wait for: it is recorded at ``pending``, with its source and who asked for it.

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
from bridge.domain.cancel_rule import Decision, Outcome, check_store, judge_amazon_order
from bridge.domain.messages import MessageKey, render
from bridge.domain.records import CancelRequest, NewCancelRequest, OrderLink
from bridge.domain.states import Source, TransitionRefused, can_restart, restart_state
from bridge.domain.stores import Store, StoreDirectory
from bridge.errors import NotFound, UpstreamError
from bridge.services.amazon_status import AmazonStatus
from bridge.storage.cancel_requests import CancelRequests
from bridge.storage.order_links import OrderLinks
from bridge.storage.tables import COMMERCE_REQUEST_ID_LENGTH

log = logging.getLogger(__name__)


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
    UNDER_WAY = "under_way"  # a cancel of the order is already under way (or done)


@dataclass(frozen=True)
class BridgeCancelAnswer:
    outcome: BridgeCancelOutcome
    decision: str
    message: str | None
    request: CancelRequest | None = None

    @classmethod
    def refused(cls, decision: str, message: str) -> BridgeCancelAnswer:
        return cls(BridgeCancelOutcome.REFUSED, decision, message)


@dataclass(frozen=True)
class _Judged:
    """The cancel rule's answer: ``verdict`` when the cancel may go on, else ``refusal`` (the admin's message)."""

    store: Store | None
    order: AmazonOrder | None
    verdict: Decision | None
    decision: str
    refusal: str | None

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
        amazon_payment_methods: tuple[str, ...],
    ) -> None:
        self._commerce = commerce
        self._amazon_status = amazon_status
        self._links = links
        self._requests = cancel_requests
        self._stores = stores
        self._default_locale = default_locale
        self._commerce_confirm_seconds = commerce_confirm_seconds  # when the worker reads the order back itself
        self._amazon_payment_methods = amazon_payment_methods

    # --- before ---------------------------------------------------------------------------------------------------
    def before_cancel(self, entity_id: int, commerce_request_id: str | None, deadline: Deadline) -> CancelAnswer:
        """Decide whether Commerce may go on with the cancel of order ``entity_id``."""
        try:
            recorded = self._requests.for_commerce_order(entity_id)
            if recorded is not None and not can_restart(recorded.state):
                # A retry, double click or replay of a cancel under way: it goes on as it is.
                return CancelAnswer.proceed("under_way", **_context_of(recorded))
            link = self._link_for(entity_id, deadline)
            if link.amazon_order_id is None:
                return CancelAnswer.proceed("not_amazon", increment_id=link.increment_id)
            return self._decide(link, link.amazon_order_id, recorded, commerce_request_id, deadline)
        except (UpstreamError, SQLAlchemyError) as exc:
            # Commerce or the bridge's own database: nothing was decided, nothing recorded.
            log.warning("cancel could not be checked: %s", exc.__class__.__name__, extra={"error": str(exc)[:300]})
            return self._unavailable(entity_id)

    def _link_for(self, entity_id: int, deadline: Deadline) -> OrderLink:
        link = self._links.find(entity_id)
        if link is None:  # not in the link mirror yet: read the order (it never changes its Amazon link)
            link = OrderLink.of(self._commerce.get_order(entity_id, deadline), self._amazon_payment_methods)
            self._links.remember([link])
        return link

    def _decide(
        self,
        link: OrderLink,
        amazon_order_id: str,
        recorded: CancelRequest | None,
        commerce_request_id: str | None,
        deadline: Deadline,
    ) -> CancelAnswer:
        judged = self._judge(link, amazon_order_id, deadline)
        context = judged.context(link, amazon_order_id)
        if judged.refusal is not None:
            return CancelAnswer.stop(judged.decision, judged.refusal, **context)
        assert judged.store is not None and judged.order is not None and judged.verdict is not None
        new = _new_request(
            link, judged,
            reason=choose_reason(judged.order.buyer_requested_cancel, judged.store.default_cancel_reason),
            source=Source.COMMERCE,
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

    def _judge(self, link: OrderLink, amazon_order_id: str, deadline: Deadline, locale: str | None = None) -> _Judged:
        """The cancel rule, for the hook and the bridge's own cancels alike: the store, then Amazon's view."""
        store = self._stores.for_commerce_store(link.commerce_store_id)
        locale = locale or (store.locale if store else self._default_locale)

        def refuse(decision: str, key: MessageKey, order: AmazonOrder | None = None, **values: str) -> _Judged:
            message = render(key, locale, amazon_order_id=amazon_order_id, **values)
            return _Judged(store, order, None, decision, message)

        refusal = check_store(store)
        if refusal is not None:
            assert refusal.message_key is not None
            return refuse(refusal.message_key.value, refusal.message_key)
        assert store is not None  # check_store refuses a missing store
        try:
            order = self._amazon_status.fresh_or_live(store, amazon_order_id, deadline)
        except NotFound:
            return refuse("not_found_at_amazon", MessageKey.NOT_FOUND_AT_AMAZON)
        except UpstreamError as exc:
            log.warning("Amazon status of %s unconfirmed: %s", amazon_order_id, exc)
            return refuse("unavailable", MessageKey.STATUS_UNCONFIRMED)
        verdict = judge_amazon_order(order)
        if verdict.outcome is Outcome.REFUSE:
            assert verdict.message_key is not None
            return refuse(verdict.message_key.value, verdict.message_key, order, amazon_status=order.status)
        if deadline.remaining() <= 0:  # the caller may have given up already: say so rather than record
            return refuse("unavailable", MessageKey.STATUS_UNCONFIRMED, order)
        return _Judged(store, order, verdict, verdict.outcome.value, None)

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
        """An operator's (console) or a tool's (API) cancel: the same rule as the hook, but nothing to wait for in
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
        judged = self._judge(link, link.amazon_order_id, deadline, locale)
        if judged.refusal is not None:
            return BridgeCancelAnswer.refused(judged.decision, judged.refusal)
        assert judged.store is not None and judged.order is not None and judged.verdict is not None
        chosen = reason or choose_reason(judged.order.buyer_requested_cancel, judged.store.default_cancel_reason)
        new = _new_request(link, judged, reason=chosen, source=source, actor=actor)
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
            extra={"request": request.id, "source": source.value, "actor": actor, "reason": chosen.value,
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
                OrderLink.of(order, self._amazon_payment_methods)
                for order in self._commerce.orders_with_number(order_ref.increment_id, deadline)
            ]
            self._links.remember(links)
        return links

    def _under_way(self, request: CancelRequest, locale: str | None) -> BridgeCancelAnswer:
        store = self._stores.by_code(request.store_code)
        message = render(
            MessageKey.CANCEL_UNDER_WAY, locale or (store.locale if store else self._default_locale),
            amazon_order_id=request.amazon_order_id, request_state=request.state, request_id=str(request.id),
        )  # fmt: skip
        return BridgeCancelAnswer(BridgeCancelOutcome.UNDER_WAY, "under_way", message, request)

    # --- after ----------------------------------------------------------------------------------------------------
    def after_cancel(self, entity_id: int, canceled: bool) -> str:
        """Commerce ran its cancel of ``entity_id``: ``canceled`` is its result. Returns what became of the request."""
        moved = self._requests.confirm_in_commerce(entity_id, canceled, "Commerce did not cancel the order")
        if not moved:
            return "nothing_waiting"  # not an Amazon order, refused, or already confirmed (a repeated hook)
        return "confirmed" if canceled else "not_canceled"


def _new_request(
    link: OrderLink, judged: _Judged, *, reason: CancelReason, source: Source, **more: str | None
) -> NewCancelRequest:
    """The request a cancel the rule let through records."""
    assert judged.store is not None and judged.order is not None and judged.verdict is not None
    return NewCancelRequest.at_store(
        judged.store, commerce_entity_id=link.commerce_entity_id, increment_id=link.increment_id,
        amazon_order_id=judged.order.order_id, marketplace_id=judged.order.marketplace_id,
        amazon_item_ids=judged.order.item_ids, reason=reason.value, decision=judged.verdict.outcome.value,
        source=source, **more,
    )  # fmt: skip


def _context_of(request: CancelRequest) -> dict[str, str | None]:
    return {
        "increment_id": request.increment_id,
        "amazon_order_id": request.amazon_order_id,
        "store_code": request.store_code,
    }
