"""Takes in one cancel from Commerce: finds the order, applies the cancel rule, records what was accepted.

Fails closed: whatever could not be checked (Commerce, Amazon, quota, the database) is refused with a message
that says to try again, never accepted unverified.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from bridge.amazon_status import AmazonStatus
from bridge.clients.commerce import CommerceClient
from bridge.clients.deadline import Deadline
from bridge.domain.amazon_order import AmazonOrder
from bridge.domain.cancel_reasons import choose_reason
from bridge.domain.cancel_rule import Decision, Outcome, check_store, judge_amazon_order
from bridge.domain.messages import MessageKey, render
from bridge.domain.stores import Store, StoreDirectory
from bridge.errors import NotFound, UpstreamError
from bridge.storage.cancel_requests import CancelRequest, CancelRequests, NewCancelRequest
from bridge.storage.order_links import OrderLink, OrderLinks

log = logging.getLogger(__name__)

ON_ACCEPT_PROCEED = "proceed"
ON_ACCEPT_HOLD = "hold"


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


class CancelIntake:
    def __init__(
        self,
        commerce: CommerceClient,
        amazon_status: AmazonStatus,
        links: OrderLinks,
        requests: CancelRequests,
        stores: StoreDirectory,
        on_accept: str,
        default_locale: str,
    ) -> None:
        self._commerce = commerce
        self._amazon_status = amazon_status
        self._links = links
        self._requests = requests
        self._stores = stores
        self._on_accept = on_accept
        self._default_locale = default_locale

    def handle(self, entity_id: int, commerce_request_id: str | None, deadline: Deadline) -> CancelAnswer:
        try:
            recorded = self._requests.for_commerce_order(entity_id)
            if recorded is not None:
                return self._answer_recorded(recorded)
            link = self._link_for(entity_id, deadline)
        except (UpstreamError, SQLAlchemyError) as exc:
            log.warning("cancel check failed before Amazon: %s", exc)
            return CancelAnswer.stop(
                "unavailable",
                render(MessageKey.BRIDGE_UNAVAILABLE, self._default_locale, order_ref=f"#{entity_id}"),
            )
        if link.amazon_order_id is None:
            return CancelAnswer.proceed("not_amazon", increment_id=link.increment_id)
        return self._handle_amazon_order(link, link.amazon_order_id, commerce_request_id, deadline)

    def _link_for(self, entity_id: int, deadline: Deadline) -> OrderLink:
        link = self._links.find(entity_id)
        if link is None:
            link = self._links.remember(self._commerce.get_order(entity_id, deadline))
        return link

    def _handle_amazon_order(
        self, link: OrderLink, amazon_order_id: str, commerce_request_id: str | None, deadline: Deadline
    ) -> CancelAnswer:
        store = self._stores.for_commerce_store(link.commerce_store_id)
        context = {
            "increment_id": link.increment_id,
            "amazon_order_id": amazon_order_id,
            "store_code": store.code if store else None,
        }
        locale = store.locale if store else self._default_locale

        def refuse(decision: str, key: MessageKey, **values: str) -> CancelAnswer:
            message = render(key, locale, amazon_order_id=amazon_order_id, **values)
            return CancelAnswer.stop(decision, message, **context)

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
        context["amazon_status"] = order.status

        decision = judge_amazon_order(order)
        if decision.outcome is Outcome.REFUSE:
            assert decision.message_key is not None
            return refuse(decision.message_key.value, decision.message_key, amazon_status=order.status)
        if deadline.remaining() <= 0:  # Commerce may have given up already: never record what it may not apply
            return refuse("unavailable", MessageKey.STATUS_UNCONFIRMED)
        try:
            self._record(link, store, order, decision, commerce_request_id)
        except SQLAlchemyError as exc:
            log.error("could not record the cancel of %s: %s", amazon_order_id, exc.__class__.__name__)
            return refuse("unavailable", MessageKey.STATUS_UNCONFIRMED)
        if decision.outcome is Outcome.ACCEPT and self._on_accept == ON_ACCEPT_HOLD:
            return refuse("accepted_hold", MessageKey.HELD_FOR_AMAZON)
        return CancelAnswer.proceed(decision.outcome.value, **context)

    def _record(
        self,
        link: OrderLink,
        store: Store,
        order: AmazonOrder,
        decision: Decision,
        commerce_request_id: str | None,
    ) -> None:
        self._requests.record(
            NewCancelRequest(
                commerce_entity_id=link.commerce_entity_id,
                increment_id=link.increment_id,
                store_code=store.code,
                seller_id=store.seller_id,
                marketplace_id=order.marketplace_id or store.marketplace_id,
                amazon_order_id=order.order_id,
                amazon_item_ids=order.item_ids,
                reason=choose_reason(order.buyer_requested_cancel, store.default_cancel_reason).value,
                decision=decision.outcome.value,
                commerce_request_id=commerce_request_id,
            )
        )

    def _answer_recorded(self, recorded: CancelRequest) -> CancelAnswer:
        """A retry, double click or replay of a cancel already recorded: answer as the first time did."""
        context = {
            "increment_id": recorded.increment_id,
            "amazon_order_id": recorded.amazon_order_id,
            "store_code": recorded.store_code,
        }
        if recorded.decision == Outcome.ACCEPT.value and self._on_accept == ON_ACCEPT_HOLD:
            store = self._stores.by_code(recorded.store_code)
            locale = store.locale if store else self._default_locale
            message = render(MessageKey.HELD_FOR_AMAZON, locale, amazon_order_id=recorded.amazon_order_id)
            return CancelAnswer.stop("duplicate", message, **context)
        return CancelAnswer.proceed("duplicate", **context)
