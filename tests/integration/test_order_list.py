"""A store's order list in SQL, on SQLite and PostgreSQL: newest first, counted, paged, filtered by Amazon status and
by where the cancel stands, and searched by any part of an Amazon order id or a Commerce order number."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import insert

from bridge.composition import Storage, build_storage
from bridge.domain.amazon_order import AmazonOrder
from bridge.domain.records import OrderLink
from bridge.domain.states import CancelStanding, RequestState
from bridge.storage.engine import upgrade
from bridge.storage.order_list import OrderFilter, OrderList
from bridge.storage.tables import cancel_requests, utcnow
from tests.conftest import BOTH_DATABASES

pytestmark = BOTH_DATABASES
NOW = 1_800_000_000.0
STATUSES = ("UNSHIPPED", "SHIPPED", "PENDING", "CANCELLED", "UNFULFILLABLE")


@pytest.fixture
def storage(database_url: str) -> Iterator[Storage]:
    storage = build_storage(database_url)
    upgrade(storage.engine)
    yield storage
    storage.engine.dispose()


def order_id(n: int) -> str:
    return f"113-{n:07d}-{n * 7 % 10**7:07d}"


def seed(storage: Storage, count: int = 30) -> None:
    """``count`` orders of store us, order n created n minutes after the first; one of store it, newer than all."""
    orders = [
        AmazonOrder(
            order_id(n), "ATVPDKIKX0DER", STATUSES[n % len(STATUSES)], "AMAZON" if n % 3 == 0 else "MERCHANT",
            ("12345678901234",), False, last_updated=NOW + n * 60 + 5, created=NOW + n * 60,
        )
        for n in range(1, count + 1)
    ]  # fmt: skip
    storage.mirror.record("us", orders, seen_at=NOW)
    storage.mirror.record("it", [AmazonOrder("171-9999999-9999999", "APJ6JRA9NG5V4", "UNSHIPPED", "MERCHANT", (), False,
                                             created=NOW + 10**6)], seen_at=NOW)  # fmt: skip
    storage.links.remember(
        OrderLink(5000 + n, f"US-{100000 + n}", 2, order_id(n), "processing", NOW) for n in range(1, count + 1)
    )


def request(storage: Storage, n: int, state: RequestState, entity_id: int | None = None) -> None:
    with storage.engine.begin() as connection:
        connection.execute(
            insert(cancel_requests).values(
                commerce_entity_id=entity_id or 5000 + n, increment_id=f"US-{100000 + n}", store_code="us",
                seller_id="A2SELLERUS", marketplace_id="ATVPDKIKX0DER", amazon_order_id=order_id(n),
                reason="NoInventory", decision="accept", state=state, created_at=utcnow(), updated_at=utcnow(),
            )
        )  # fmt: skip


def ids(storage: Storage, found: OrderFilter, offset: int = 0, limit: int = 100) -> list[str]:
    return [order.order_id for order in OrderList(storage.engine).orders(found, offset, limit)]


def test_every_order_of_the_store_newest_first_in_pages_with_the_count(storage: Storage) -> None:
    seed(storage)
    listing = OrderList(storage.engine)
    everything = OrderFilter("us")
    assert listing.count(everything) == 30
    pages = [ids(storage, everything, offset, 7) for offset in range(0, 30, 7)]
    assert [len(page) for page in pages] == [7, 7, 7, 7, 2]
    listed = [amazon_order_id for page in pages for amazon_order_id in page]
    assert listed == [order_id(n) for n in range(30, 0, -1)]  # newest first, none twice, none left out
    assert "171-9999999-9999999" not in listed  # another store's order


def test_filtered_by_amazon_status(storage: Storage) -> None:
    seed(storage)
    shipped = OrderFilter("us", status="SHIPPED")
    assert ids(storage, shipped) == [order_id(n) for n in range(30, 0, -1) if STATUSES[n % 5] == "SHIPPED"]
    assert OrderList(storage.engine).count(shipped) == 6
    assert ids(storage, OrderFilter("us", status="PARTIALLY_SHIPPED")) == []


def test_filtered_by_where_the_cancel_stands_from_the_newest_request(storage: Storage) -> None:
    seed(storage)
    request(storage, 1, RequestState.COMPLETED)
    request(storage, 2, RequestState.READY)
    request(storage, 3, RequestState.FAILED)
    request(storage, 4, RequestState.REJECTED)
    request(storage, 4, RequestState.AWAITING_COMMERCE, entity_id=9004)  # a second Commerce order: the newest counts
    assert ids(storage, OrderFilter("us", standing=CancelStanding.COMPLETED)) == [order_id(1)]
    assert ids(storage, OrderFilter("us", standing=CancelStanding.UNDER_WAY)) == [order_id(4), order_id(2)]
    assert ids(storage, OrderFilter("us", standing=CancelStanding.NEEDS_ATTENTION)) == [order_id(3)]
    none = OrderFilter("us", standing=CancelStanding.NONE)
    assert OrderList(storage.engine).count(none) == 26
    assert {order_id(n) for n in (1, 2, 3, 4)}.isdisjoint(ids(storage, none))


def test_found_by_any_part_of_the_amazon_order_id_or_the_commerce_number(storage: Storage) -> None:
    seed(storage)
    assert ids(storage, OrderFilter("us", search="0000013")) == [order_id(13)]  # part of the Amazon order id
    assert ids(storage, OrderFilter("us", search="100017")) == [order_id(17)]  # part of the Commerce number
    assert ids(storage, OrderFilter("us", search="us-10002")) == [order_id(n) for n in range(29, 19, -1)]  # any case
    assert ids(storage, OrderFilter("us", search=order_id(21))) == [order_id(21)]  # the whole id
    assert ids(storage, OrderFilter("us", search="%")) == []  # LIKE's wildcards are plain characters
    assert ids(storage, OrderFilter("us", search="_")) == []
    assert ids(storage, OrderFilter("us", search="9999999")) == []  # store it's order, not this store's
    request(storage, 6, RequestState.COMPLETED)
    together = OrderFilter("us", status="SHIPPED", search="US-10000", standing=CancelStanding.NONE)  # orders 1 to 9
    assert ids(storage, together) == [order_id(1)]  # 1 and 6 are SHIPPED; 6 has a cancel
