"""Remembers which Commerce order is which Amazon order, so Commerce is asked only once per order."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select

from bridge.domain.commerce_order import CommerceOrder
from bridge.storage.tables import order_links, utcnow
from bridge.storage.upsert import insert_if_absent


@dataclass(frozen=True)
class OrderLink:
    commerce_entity_id: int
    increment_id: str | None
    commerce_store_id: int | None
    amazon_order_id: str | None


class OrderLinks:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def find(self, commerce_entity_id: int) -> OrderLink | None:
        with self._engine.connect() as connection:
            row = connection.execute(
                select(order_links).where(order_links.c.commerce_entity_id == commerce_entity_id)
            ).first()
        if row is None:
            return None
        return OrderLink(row.commerce_entity_id, row.increment_id, row.commerce_store_id, row.amazon_order_id)

    def remember(self, order: CommerceOrder) -> OrderLink:
        link = OrderLink(order.entity_id, order.increment_id, order.store_id, order.amazon_order_id)
        with self._engine.begin() as connection:
            insert_if_absent(
                connection,
                order_links,
                {
                    "commerce_entity_id": link.commerce_entity_id,
                    "increment_id": link.increment_id,
                    "commerce_store_id": link.commerce_store_id,
                    "amazon_order_id": link.amazon_order_id,
                    "created_at": utcnow(),
                },
            )
        return link
