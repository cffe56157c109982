"""Which Commerce order is which Amazon order, and the Commerce order's state as last seen.

The link never changes once Commerce imported the order, so it is read from Commerce once: ahead of the admin's
click by the link mirror (a search of recently updated orders), or by the first hook that needs it. The Commerce
state is kept current by the same search, for reconciling with Amazon.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, bindparam, or_, select, update

from bridge.domain.records import OrderLink
from bridge.storage.tables import commerce_link_cursors, order_links, utcnow
from bridge.storage.upsert import insert_if_absent


@dataclass(frozen=True)
class LinkCursor:
    updated_after: float | None  # the next search's updated_at lower bound
    complete_as_of: float | None  # every change up to this time is in the links
    backfilled_at: float | None


def link_of(row: Any) -> OrderLink:
    return OrderLink(
        row.commerce_entity_id, row.increment_id, row.commerce_store_id, row.amazon_order_id,
        row.commerce_state, row.commerce_updated_at,
    )  # fmt: skip


LINK_CURSOR = "commerce"  # the link mirror's one cursor: every store's orders come from one Commerce search

_BY_ENTITY_ID = select(order_links).where(order_links.c.commerce_entity_id == bindparam("entity_id"))


class OrderLinks:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def find(self, commerce_entity_id: int) -> OrderLink | None:
        with self._engine.connect() as connection:
            row = connection.execute(_BY_ENTITY_ID, {"entity_id": commerce_entity_id}).first()
        return link_of(row) if row is not None else None

    def with_number(self, increment_id: str) -> list[OrderLink]:
        """The Commerce orders with this number: one, except where two websites number their orders alike."""
        query = (
            select(order_links)
            .where(order_links.c.increment_id == increment_id)
            .order_by(order_links.c.commerce_entity_id)
            .limit(2)
        )
        with self._engine.connect() as connection:
            return [link_of(row) for row in connection.execute(query)]

    def of_amazon_orders(self, amazon_order_ids: Collection[str]) -> dict[str, list[OrderLink]]:
        """The Commerce orders imported from each of these Amazon orders (usually one), oldest first."""
        found: dict[str, list[OrderLink]] = {}
        query = (
            select(order_links)
            .where(order_links.c.amazon_order_id.in_(sorted(amazon_order_ids)))
            .order_by(order_links.c.commerce_entity_id)
        )
        with self._engine.connect() as connection:
            for row in connection.execute(query):
                found.setdefault(row.amazon_order_id, []).append(link_of(row))
        return found

    def note_state(self, commerce_entity_id: int, commerce_state: str) -> None:
        """What the bridge itself just read back after writing the order (its write-back): the console and the
        drift check see it at once. Commerce's own updated_at is left alone, so its next change still wins."""
        with self._engine.begin() as connection:
            connection.execute(
                update(order_links)
                .where(order_links.c.commerce_entity_id == commerce_entity_id)
                .values(commerce_state=commerce_state)
            )

    def remember(self, links: Iterable[OrderLink]) -> int:
        """Record each link, and its Commerce state when newer than the one recorded; how many rows changed."""
        changed = 0
        with self._engine.begin() as connection:
            for link in links:
                state = {"commerce_state": link.commerce_state, "commerce_updated_at": link.commerce_updated_at}
                if insert_if_absent(
                    connection,
                    order_links,
                    {
                        "commerce_entity_id": link.commerce_entity_id,
                        "increment_id": link.increment_id,
                        "commerce_store_id": link.commerce_store_id,
                        "amazon_order_id": link.amazon_order_id,
                        "created_at": utcnow(),
                        **state,
                    },
                ):
                    changed += 1
                    continue
                if link.commerce_state is None:
                    continue
                newer = or_(
                    order_links.c.commerce_updated_at.is_(None),
                    order_links.c.commerce_updated_at <= (link.commerce_updated_at or 0.0),
                )
                changed += connection.execute(
                    update(order_links)
                    .where(order_links.c.commerce_entity_id == link.commerce_entity_id, newer)
                    .values(**state)
                ).rowcount
        return changed

    # --- the link mirror's cursor ---------------------------------------------------------------------------------
    def cursor(self, name: str) -> LinkCursor | None:
        with self._engine.connect() as connection:
            row = connection.execute(select(commerce_link_cursors).where(commerce_link_cursors.c.name == name)).first()
        return LinkCursor(row.updated_after, row.complete_as_of, row.backfilled_at) if row else None

    def advance(self, name: str, updated_after: float, complete_as_of: float, backfilled_at: float | None) -> None:
        """Move the cursor forward (never back: a slower concurrent refresh must not undo a faster one)."""
        values: dict[str, float] = {"updated_after": updated_after, "complete_as_of": complete_as_of}
        if backfilled_at is not None:
            values["backfilled_at"] = backfilled_at
        with self._engine.begin() as connection:
            insert_if_absent(connection, commerce_link_cursors, {"name": name})
            connection.execute(
                update(commerce_link_cursors)
                .where(
                    commerce_link_cursors.c.name == name,
                    or_(
                        commerce_link_cursors.c.complete_as_of.is_(None),
                        commerce_link_cursors.c.complete_as_of <= complete_as_of,
                    ),
                )
                .values(**values)
            )
