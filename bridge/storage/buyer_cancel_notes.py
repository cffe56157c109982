"""Buyers' cancellation requests seen at Amazon, each flagged once on its Commerce order with an audit comment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, update

from bridge.storage.leases import claim_rows, lease_is_free
from bridge.storage.tables import buyer_cancel_notes as table
from bridge.storage.tables import utcnow
from bridge.storage.upsert import insert_if_absent


@dataclass(frozen=True)
class BuyerCancelNote:
    id: int
    amazon_order_id: str
    commerce_entity_id: int
    store_code: str
    reason: str | None
    noted_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> BuyerCancelNote:
        return cls(row.id, row.amazon_order_id, row.commerce_entity_id, row.store_code, row.reason, row.noted_at)


class BuyerCancelNotes:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, amazon_order_id: str, commerce_entity_id: int, store_code: str, reason: str | None) -> bool:
        """One note per Amazon order, ever: False when it was seen before."""
        with self._engine.begin() as connection:
            return insert_if_absent(
                connection,
                table,
                {
                    "amazon_order_id": amazon_order_id,
                    "commerce_entity_id": commerce_entity_id,
                    "store_code": store_code,
                    "reason": reason,
                    "next_attempt_at": 0.0,
                    "created_at": utcnow(),
                },
            )

    def claim_due(self, owner: str, now: float, lease: float, limit: int) -> list[BuyerCancelNote]:
        due = [table.c.noted_at.is_(None), table.c.next_attempt_at <= now, lease_is_free(table, now)]
        rows = claim_rows(self._engine, table, due, owner, now, lease, limit)
        return [BuyerCancelNote.from_row(row) for row in rows]

    def noted(self, note: BuyerCancelNote, owner: str) -> None:
        self._finish(note, owner, noted_at=utcnow())

    def later(self, note: BuyerCancelNote, owner: str, retry_at: float) -> None:
        self._finish(note, owner, next_attempt_at=retry_at)

    def all(self) -> list[BuyerCancelNote]:
        with self._engine.connect() as connection:
            return [BuyerCancelNote.from_row(row) for row in connection.execute(select(table).order_by(table.c.id))]

    def _finish(self, note: BuyerCancelNote, owner: str, **values: Any) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                update(table)
                .where(table.c.id == note.id, table.c.lease_owner == owner)
                .values(lease_owner=None, lease_expires_at=None, **values)
            )
