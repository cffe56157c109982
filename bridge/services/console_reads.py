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
from bridge.domain.reconciliation import Drift, drifts_among
from bridge.domain.records import CancelRequest, FeedRecord, OrderLink, RequestSearch, TimelineEvent
from bridge.domain.states import RequestState, Source, can_restart
from bridge.domain.stores import Store, StoreDirectory, marketplace_name
from bridge.errors import UpstreamError
from bridge.storage.feed_records import FeedRecords
from bridge.storage.order_links import LINK_CURSOR, OrderLinks
from bridge.storage.order_mirror import OrderMirror
from bridge.storage.order_pairs import OrderPairs
from bridge.storage.request_queries import RequestQueries

RECENT_ORDERS = 50
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
    may_cancel: bool  # the rule allows it and no cancel of this order is under way
    suggested_reason: CancelReason | None
    reasons: tuple[CancelReason, ...]  # the reasons this order's cancel may carry


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
        links: OrderLinks,
        request_queries: RequestQueries,
        feeds: FeedRecords,
        pairs: OrderPairs,
        commerce: CommerceClient,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._stores = stores
        self._mirror = mirror
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

    def store_orders(self, store: Store, search: str = "") -> list[OrderRow]:
        """The store's most recent orders, or those matching ``search`` (an Amazon order id or Commerce number)."""
        wanted: list[str] | None = None
        search = search.strip()
        if search:
            numbered = self._links.with_number(search)
            wanted = [link.amazon_order_id for link in numbered if link.amazon_order_id] or [search]
        orders = self._mirror.recent(store.code, RECENT_ORDERS, wanted)
        ids = [order.order_id for order in orders]
        links = self._links.of_amazon_orders(ids)
        requests = self._queries.for_amazon_orders(ids)
        return [
            OrderRow(order, (links.get(order.order_id) or [None])[0], requests.get(order.order_id)) for order in orders
        ]

    def order(self, amazon_order_id: str) -> OrderDetails | None:
        mirrored = self._mirror.find(amazon_order_id)
        if mirrored is None:
            return None
        store = self.store(mirrored.store_code)
        links = self._links.of_amazon_orders([amazon_order_id]).get(amazon_order_id, [])
        request = self._queries.for_amazon_orders([amazon_order_id]).get(amazon_order_id)
        feed = self._feeds.get(request.feed_id) if request and request.feed_id else None
        timeline = self._queries.timeline(request.id) if request else []
        may_cancel = (
            bool(links)
            and _rule_lets_through(store, links[0])
            and judge_amazon_order(mirrored.order).outcome is Outcome.ACCEPT
            and (request is None or can_restart(request.state))
        )
        buyer_asked = mirrored.order.buyer_requested_cancel
        suggested = choose_reason(buyer_asked, store.default_cancel_reason) if store else None
        return OrderDetails(
            store, mirrored.store_code, mirrored.order, mirrored.seen_at, links, request, timeline, feed, may_cancel,
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
        return Attention(requests, drifts_among(self._pairs.all()))


def _rule_lets_through(store: Store | None, link: OrderLink) -> bool:
    """The rule's checks before Amazon, on the link mirror's Commerce state (the cancel itself reads it live); an
    order whose state the mirror has not seen yet is offered, and decided on that live read."""
    if link.commerce_state is None:
        return check_store(store) is None
    return before_amazon(store, Source.CONSOLE, link.commerce_state) is None
