"""A mirror of Amazon order statuses per store, shared by every process.

Amazon's getOrder allows one call every two seconds per seller, searchOrders one every three minutes but a hundred
orders a page: reading a seller's changes in pages, instead of orders one by one, is what makes mass cancels fast.
Each store's cursor says up to when the mirror holds every change (``complete_as_of``); an entry is trusted only
while that is recent. Amazon's processing report stays the final word, so a stale entry can cost a rejected
message, never a wrong Complete.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Engine, and_, bindparam, or_, select, true, update

from bridge.domain.amazon_order import AmazonOrder, OrderLine
from bridge.storage.engine import one_statement
from bridge.storage.tables import mirror_cursors, order_mirror
from bridge.storage.upsert import insert_if_absent


@dataclass(frozen=True)
class MirrorCursor:
    store_code: str
    updated_after: float | None  # the next searchOrders' lastUpdatedAfter
    complete_as_of: float | None  # every change up to this time is in the mirror
    backfilled_at: float | None  # when the backfill was done (None: under way)
    backfill_before: float | None  # the backfill has read every order created from then to the refreshes' start


@dataclass(frozen=True)
class MirroredOrder:
    store_code: str
    order: AmazonOrder
    seen_at: float  # epoch seconds


def _values(store_code: str, order: AmazonOrder, seen_at: float) -> dict[str, object]:
    return {
        "store_code": store_code,
        "marketplace_id": order.marketplace_id,
        "status": order.status,
        "fulfilled_by": order.fulfilled_by,
        "item_ids": json.dumps(list(order.item_ids)),
        "buyer_requested_cancel": order.buyer_requested_cancel,
        "buyer_cancel_reason": order.buyer_cancel_reason,
        "cancelled_by": order.cancelled_by,
        "cancel_reason": order.cancel_reason,
        "last_updated": order.last_updated,
        "seen_at": seen_at,
        "lines": json.dumps([asdict(line) for line in order.lines]),
        "created_time": order.created,
    }


@dataclass(frozen=True)
class MirrorLookup:
    """What the mirror holds of one order in one store's marketplace, and up to when that store's mirror is complete
    (an entry is trusted only while that is recent)."""

    store_code: str
    marketplace_id: str
    amazon_order_id: str
    complete_as_of: float | None  # None: the store's mirror was never complete
    order: AmazonOrder | None  # None: the mirror does not hold the order

    def is_of(self, store_code: str, marketplace_id: str, amazon_order_id: str) -> bool:
        return (self.store_code, self.marketplace_id, self.amazon_order_id) == (
            store_code, marketplace_id, amazon_order_id,
        )  # fmt: skip

    def fresh(self, now: float, max_age: float) -> AmazonOrder | None:
        """The mirrored order, if the store's mirror is complete as of at most ``max_age`` seconds ago."""
        if self.complete_as_of is None or self.complete_as_of < now - max_age:
            return None
        return self.order


def order_of(row: Any) -> AmazonOrder:
    """An order_mirror row as the AmazonOrder it stands for."""
    return AmazonOrder(
        order_id=row.amazon_order_id,
        marketplace_id=row.marketplace_id,
        status=row.status,
        fulfilled_by=row.fulfilled_by,
        item_ids=tuple(json.loads(row.item_ids)),
        buyer_requested_cancel=bool(row.buyer_requested_cancel),
        last_updated=row.last_updated,
        buyer_cancel_reason=row.buyer_cancel_reason,
        cancelled_by=row.cancelled_by,
        cancel_reason=row.cancel_reason,
        lines=tuple(OrderLine(**line) for line in json.loads(row.lines or "[]")),
        created=row.created_time,
    )


# The hook's question in one statement: how complete is the store's mirror, and what does it hold of the order?
_FRESH = (
    select(mirror_cursors.c.complete_as_of, order_mirror)
    .select_from(mirror_cursors)
    .outerjoin(
        order_mirror,
        and_(
            order_mirror.c.amazon_order_id == bindparam("order"),
            order_mirror.c.marketplace_id == bindparam("marketplace"),
        ),
    )
    .where(mirror_cursors.c.store_code == bindparam("store"))
)


class OrderMirror:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        # How far behind "now" Amazon's last answer was complete, per store (about two minutes on SP-API).
        self.lag: dict[str, float] = {}
        # The backfill's next window, per store (seconds): halved when a window held more orders than it could read.
        self.backfill_window: dict[str, float] = {}
        # Pages the store's last refresh found more changes in than it had calls for: the next one waits for that
        # many calls and one more, instead of spending each call as it comes and never reading to the end.
        self.refresh_pages_wanted: dict[str, int] = {}

    def record(self, store_code: str, orders: Iterable[AmazonOrder], seen_at: float) -> int:
        """Upsert what Amazon said, never letting an older view of an order replace a newer one."""
        count = 0
        with self._engine.begin() as connection:
            for order in orders:
                values = _values(store_code, order, seen_at)
                if insert_if_absent(connection, order_mirror, {"amazon_order_id": order.order_id, **values}):
                    count += 1
                    continue
                newer = (
                    true()
                    if order.last_updated is None
                    else or_(order_mirror.c.last_updated.is_(None), order_mirror.c.last_updated <= order.last_updated)
                )
                count += connection.execute(
                    update(order_mirror).where(order_mirror.c.amazon_order_id == order.order_id, newer).values(**values)
                ).rowcount
        return count

    def get_many(self, amazon_order_ids: Iterable[str], marketplace_id: str) -> dict[str, AmazonOrder]:
        """Entries of the store's marketplace only: the store's searches keep no other marketplace current."""
        ids = list(amazon_order_ids)
        found: dict[str, AmazonOrder] = {}
        with self._engine.connect() as connection:
            for start in range(0, len(ids), 500):
                rows = connection.execute(
                    select(order_mirror).where(
                        order_mirror.c.amazon_order_id.in_(ids[start : start + 500]),
                        order_mirror.c.marketplace_id == marketplace_id,
                    )
                )
                for row in rows:
                    found[row.amazon_order_id] = order_of(row)
        return found

    def find(self, amazon_order_id: str) -> MirroredOrder | None:
        """What the mirror holds of one order, whichever store it came from, and when it was last seen."""
        with self._engine.connect() as connection:
            row = connection.execute(
                select(order_mirror).where(order_mirror.c.amazon_order_id == amazon_order_id)
            ).first()
        return MirroredOrder(row.store_code, order_of(row), row.seen_at) if row else None

    def cursor(self, store_code: str) -> MirrorCursor | None:
        with self._engine.connect() as connection:
            row = connection.execute(select(mirror_cursors).where(mirror_cursors.c.store_code == store_code)).first()
        if row is None:
            return None
        return MirrorCursor(
            row.store_code, row.updated_after, row.complete_as_of, row.backfilled_at, row.backfill_before
        )

    def begin(self, store_code: str, updated_after: float) -> None:
        """A new store's cursor: refreshes take every change from ``updated_after`` on, the backfill what was before."""
        with self._engine.begin() as connection:
            insert_if_absent(connection, mirror_cursors, {"store_code": store_code})
            connection.execute(
                update(mirror_cursors)
                .where(mirror_cursors.c.store_code == store_code, mirror_cursors.c.updated_after.is_(None))
                .values(updated_after=updated_after)
            )

    def backfilled_down_to(self, store_code: str, before: float, backfilled_at: float | None) -> None:
        """The backfill has read every order created from ``before`` on (never moved back up by a slower worker)."""
        values: dict[str, float] = {"backfill_before": before}
        if backfilled_at is not None:
            values["backfilled_at"] = backfilled_at
        with self._engine.begin() as connection:
            connection.execute(
                update(mirror_cursors)
                .where(
                    mirror_cursors.c.store_code == store_code,
                    or_(mirror_cursors.c.backfill_before.is_(None), mirror_cursors.c.backfill_before >= before),
                )
                .values(**values)
            )

    def complete_as_of(self) -> dict[str, float | None]:
        """Per store, up to when its mirror holds every change (None: never refreshed to the end yet)."""
        query = select(mirror_cursors.c.store_code, mirror_cursors.c.complete_as_of)
        with self._engine.connect() as connection:
            return {row.store_code: row.complete_as_of for row in connection.execute(query)}

    def advance(self, store_code: str, updated_after: float, complete_as_of: float) -> None:
        """Move the store's cursor forward (never back: a slower concurrent refresh must not undo a faster one)."""
        with self._engine.begin() as connection:
            insert_if_absent(connection, mirror_cursors, {"store_code": store_code})
            values: dict[str, float] = {"updated_after": updated_after, "complete_as_of": complete_as_of}
            connection.execute(
                update(mirror_cursors)
                .where(
                    mirror_cursors.c.store_code == store_code,
                    or_(mirror_cursors.c.complete_as_of.is_(None), mirror_cursors.c.complete_as_of <= complete_as_of),
                )
                .values(**values)
            )

    def lookup(self, store_code: str, marketplace_id: str, amazon_order_id: str) -> MirrorLookup:
        """What the store's mirror holds of the order, and how complete it is, in one statement."""
        with one_statement(self._engine) as connection:
            row = connection.execute(
                _FRESH, {"store": store_code, "order": amazon_order_id, "marketplace": marketplace_id}
            ).first()
        complete_as_of = row.complete_as_of if row is not None else None
        order = order_of(row) if row is not None and row.amazon_order_id is not None else None
        return MirrorLookup(store_code, marketplace_id, amazon_order_id, complete_as_of, order)
