"""What the console shows, gathered from the bridge's own records: no Flask here, and no call to Amazon.

Orders come from the order mirror (kept fresh by the worker), their Commerce side from the link mirror, and a
cancel's story from its request, its timeline and its feed. Only the order details page reads Commerce live, for
the order's comments; a Commerce outage leaves the rest of the page intact.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from bridge.clients.commerce import CommerceClient
from bridge.deadline import Deadline
from bridge.domain.amazon_order import AmazonOrder
from bridge.domain.cancel_reasons import CancelReason, allowed_reasons, choose_reason
from bridge.domain.cancel_rule import Outcome, before_amazon, check_store, judge_amazon_order
from bridge.domain.marketplaces import marketplace_name
from bridge.domain.messages import MessageKey
from bridge.domain.reconciliation import Drift, drifts_among
from bridge.domain.records import CancelRequest, FeedRecord, OrderLink, RequestSearch, TimelineEvent
from bridge.domain.states import FINAL_REQUEST_STATES, RequestState, Source, can_restart
from bridge.domain.stores import Store, StoreDirectory
from bridge.errors import UpstreamError
from bridge.storage.feed_records import FeedRecords
from bridge.storage.order_links import LINK_CURSOR, OrderLinks
from bridge.storage.order_list import OrderFilter, OrderList
from bridge.storage.order_mirror import OrderMirror
from bridge.storage.order_pairs import OrderPairs
from bridge.storage.request_queries import RequestQueries

ATTENTION_LIMIT = 200
COMMENTS_SECONDS = 3.0  # the details page waits this long for Commerce's comments, then shows the page without
# Requests an operator must look at: they ended without a cancel, or Commerce never confirmed its own.
NEEDS_A_PERSON = (RequestState.FAILED, RequestState.REJECTED, RequestState.NOT_CANCELED_IN_COMMERCE)


@dataclass(frozen=True)
class StoreCard:
    store: Store
    marketplace: str
    mirror_complete_as_of: float | None  # every Amazon change up to then is in the mirror
    mirror_age_seconds: float | None
    commerce_mirror_age_seconds: float | None  # the Commerce link mirror (one for every store)
    requests_by_state: dict[str, int]


@dataclass(frozen=True)
class OrderRow:
    order: AmazonOrder
    commerce: OrderLink | None
    request: CancelRequest | None


@dataclass(frozen=True)
class StoreOrders:
    """One page of a store's order list, how many orders match in all, and how far the mirror has read the store."""

    rows: list[OrderRow]
    total: int
    page: int  # 1-based, within the pages there are
    pages: int
    read: bool  # the worker has read the store's orders from Amazon at least once
    backfilling: bool  # ... and is still reading its past orders


@dataclass(frozen=True)
class CommerceComments:
    comments: tuple[str, ...]
    unavailable: str | None = None  # why they could not be read


@dataclass(frozen=True)
class OrderDetails:
    store: Store | None
    store_code: str
    order: AmazonOrder
    seen_at: float
    commerce: list[OrderLink]
    request: CancelRequest | None
    timeline: list[TimelineEvent]
    feed: FeedRecord | None
    # Why the order may not be canceled now, None when it may: the rule's refusal (its message key, the admin's
    # words in Commerce), a cancel of it under way or done, or Outcome.ALREADY_CANCELLED (Amazon shows it canceled).
    why_not: MessageKey | Outcome | None
    suggested_reason: CancelReason | None
    reasons: tuple[CancelReason, ...]  # the reasons this order's cancel may carry

    @property
    def may_cancel(self) -> bool:
        return self.why_not is None

    @property
    def cancel_under_way(self) -> bool:
        """A cancel of the order has not reached a final state: the page follows it."""
        return self.request is not None and self.request.state not in FINAL_REQUEST_STATES


@dataclass(frozen=True)
class Attention:
    requests: list[CancelRequest]
    drifts: list[Drift]


class ConsoleReads:
    def __init__(
        self,
        *,
        stores: StoreDirectory,
        mirror: OrderMirror,
        order_list: OrderList,
        links: OrderLinks,
        request_queries: RequestQueries,
        feeds: FeedRecords,
        pairs: OrderPairs,
        commerce: CommerceClient,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._stores = stores
        self._mirror = mirror
        self._order_list = order_list
        self._links = links
        self._queries = request_queries
        self._feeds = feeds
        self._pairs = pairs
        self._commerce = commerce
        self._clock = clock

    def store_cards(self) -> list[StoreCard]:
        now = self._clock()
        complete = self._mirror.complete_as_of()
        links = self._links.cursor(LINK_CURSOR)
        links_as_of = links.complete_as_of if links else None
        commerce_age = None if links_as_of is None else now - links_as_of
        counts = self._queries.counts_by_store_and_state()
        cards = []
        for store in self._stores:
            as_of = complete.get(store.code)
            age = None if as_of is None else now - as_of
            marketplace = marketplace_name(store.marketplace_id)
            cards.append(StoreCard(store, marketplace, as_of, age, commerce_age, counts.get(store.code, {})))
        return cards

    def store(self, code: str) -> Store | None:
        return self._stores.by_code(code)

    def store_orders(self, found: OrderFilter, page: int, size: int) -> StoreOrders:
        """The store's orders matching ``found``, newest first: page ``page`` of ``size`` (the last page when
        ``page`` is past it), with each order's Commerce order and newest cancel request."""
        total = self._order_list.count(found)
        pages = max(1, -(-total // size))
        page = min(page, pages)
        orders = self._order_list.orders(found, (page - 1) * size, size) if total else []
        ids = [order.order_id for order in orders]
        links = self._links.of_amazon_orders(ids)
        requests = self._queries.for_amazon_orders(ids)
        rows = [
            OrderRow(order, (links.get(order.order_id) or [None])[0], requests.get(order.order_id)) for order in orders
        ]
        cursor = self._mirror.cursor(found.store_code)
        read = cursor is not None and cursor.complete_as_of is not None
        return StoreOrders(rows, total, page, pages, read, read and cursor is not None and cursor.backfilled_at is None)

    def order(self, amazon_order_id: str) -> OrderDetails | None:
        mirrored = self._mirror.find(amazon_order_id)
        if mirrored is None:
            return None
        store = self.store(mirrored.store_code)
        links = self._links.of_amazon_orders([amazon_order_id]).get(amazon_order_id, [])
        request = self._queries.for_amazon_orders([amazon_order_id]).get(amazon_order_id)
        feed = self._feeds.get(request.feed_id) if request and request.feed_id else None
        timeline = self._queries.timeline(request.id) if request else []
        why_not = _why_not(store, links, mirrored.order, request)
        buyer_asked = mirrored.order.buyer_requested_cancel
        suggested = choose_reason(buyer_asked, store.default_cancel_reason) if store else None
        return OrderDetails(
            store, mirrored.store_code, mirrored.order, mirrored.seen_at, links, request, timeline, feed, why_not,
            suggested, allowed_reasons(buyer_asked),
        )  # fmt: skip

    def commerce_comments(self, commerce_entity_id: int) -> CommerceComments:
        try:
            state = self._commerce.order_state(commerce_entity_id, Deadline(COMMENTS_SECONDS))
        except UpstreamError as exc:
            return CommerceComments((), unavailable=str(exc))
        return CommerceComments(tuple(comment for comment in state.comments if comment))

    def needs_attention(self) -> Attention:
        requests: list[CancelRequest] = []
        for state in NEEDS_A_PERSON:
            found, _ = self._queries.search(RequestSearch(state=state), ATTENTION_LIMIT)
            requests.extend(found)
        requests.sort(key=lambda request: request.updated_at, reverse=True)
        return Attention(requests, drifts_among(self._pairs.maybe_drifting()))


def _why_not(
    store: Store | None, links: list[OrderLink], order: AmazonOrder, request: CancelRequest | None
) -> MessageKey | Outcome | None:
    """What the console's cancel would answer now, as the rule every door shares decides it: a cancel under way (or
    done) first, then the rule's checks before Amazon on the link mirror's Commerce state (the cancel itself reads it
    live; an order whose state the mirror has not seen yet is offered, and decided on that live read), then Amazon's
    view of the order."""
    if request is not None and not can_restart(request.state):
        return MessageKey.ALREADY_COMPLETED if request.state == RequestState.COMPLETED else MessageKey.CANCEL_UNDER_WAY
    if not links:
        return MessageKey.ORDER_NOT_KNOWN
    state = links[0].commerce_state
    early = check_store(store) if state is None else before_amazon(store, Source.CONSOLE, state)
    verdict = early or judge_amazon_order(order)
    if verdict.outcome is Outcome.ACCEPT:
        return None
    return verdict.message_key or verdict.outcome
