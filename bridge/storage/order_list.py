"""A store's orders as the console lists them: every order the mirror holds, newest first, narrowed by Amazon status,
by where its cancel stands and by any part of its Amazon order id or Commerce order number.

Counted, filtered and paged in one pair of SQL statements over indexes (``ix_order_mirror_store_newest``,
``ix_order_mirror_store_status_newest``, ``ix_cancel_requests_amazon_order_id``), so that a store with tens of
thousands of orders lists as fast as one with fifty, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement, Engine, Select, exists, func, or_, select

from bridge.domain.amazon_order import AmazonOrder
from bridge.domain.states import STANDING_STATES, CancelStanding
from bridge.storage.order_mirror import order_of
from bridge.storage.tables import MIRROR_NEWEST, cancel_requests, order_links, order_mirror


@dataclass(frozen=True)
class OrderFilter:
    store_code: str
    status: str | None = None  # Amazon's status, e.g. UNSHIPPED
    standing: CancelStanding | None = None
    search: str = ""  # any part of the Amazon order id or of a Commerce order number


def _orders_whose_newest_request_is_in(states: frozenset[StrEnum]) -> Select[tuple[str]]:
    """The Amazon orders whose newest cancel request (the one the console shows) is in one of ``states``: read from
    the requests, few beside the orders, with no newer request of the same order (an index lookup each)."""
    newer = cancel_requests.alias("newer")
    return select(cancel_requests.c.amazon_order_id).where(
        cancel_requests.c.state.in_(sorted(states)),
        ~exists().where(
            newer.c.amazon_order_id == cancel_requests.c.amazon_order_id, newer.c.id > cancel_requests.c.id
        ),
    )


def _conditions(found: OrderFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [order_mirror.c.store_code == found.store_code]
    if found.status is not None:
        conditions.append(order_mirror.c.status == found.status)
    if found.standing is CancelStanding.NONE:
        conditions.append(~exists().where(cancel_requests.c.amazon_order_id == order_mirror.c.amazon_order_id))
    elif found.standing is not None:
        conditions.append(
            order_mirror.c.amazon_order_id.in_(_orders_whose_newest_request_is_in(STANDING_STATES[found.standing]))
        )
    if found.search:
        # Amazon order ids are digits and dashes; Commerce numbers may carry a prefix in either case. The numbers
        # are matched once, not per order: LIKE over every link is one scan, a lookup per order would be many.
        numbered = select(order_links.c.amazon_order_id).where(
            order_links.c.increment_id.icontains(found.search, autoescape=True)
        )
        conditions.append(
            or_(
                order_mirror.c.amazon_order_id.contains(found.search, autoescape=True),
                order_mirror.c.amazon_order_id.in_(numbered),
            )
        )
    return conditions


class OrderList:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def count(self, found: OrderFilter) -> int:
        """How many of the store's orders match, on every page."""
        query = select(func.count()).select_from(order_mirror).where(*_conditions(found))
        with self._engine.connect() as connection:
            return connection.execute(query).scalar_one()

    def orders(self, found: OrderFilter, offset: int, limit: int) -> list[AmazonOrder]:
        """The matching orders from ``offset`` on (at most ``limit``), newest first."""
        query = (
            select(order_mirror)
            .where(*_conditions(found))
            .order_by(MIRROR_NEWEST.desc(), order_mirror.c.amazon_order_id.desc())
            .offset(offset)
            .limit(limit)
        )
        with self._engine.connect() as connection:
            return [order_of(row) for row in connection.execute(query)]
