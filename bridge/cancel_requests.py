"""Durable cancel requests: what the webhook accepted and the pipeline must carry through."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select

from bridge.tables import cancel_requests, utcnow
from bridge.upsert import insert_if_absent

STATE_PENDING = "pending"


@dataclass(frozen=True)
class NewCancelRequest:
    commerce_entity_id: int
    increment_id: str | None
    store_code: str
    seller_id: str
    marketplace_id: str
    amazon_order_id: str
    reason: str
    decision: str
    commerce_request_id: str | None


@dataclass(frozen=True)
class CancelRequest(NewCancelRequest):
    id: int
    state: str
    created_at: datetime
    updated_at: datetime


class CancelRequests:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record(self, request: NewCancelRequest) -> bool:
        """Store the request once per Commerce order; a retry or double click finds it there (False)."""
        now = utcnow()
        with self._engine.begin() as connection:
            return insert_if_absent(
                connection,
                cancel_requests,
                {**request.__dict__, "state": STATE_PENDING, "created_at": now, "updated_at": now},
            )

    def for_commerce_order(self, commerce_entity_id: int) -> CancelRequest | None:
        with self._engine.connect() as connection:
            row = connection.execute(
                select(cancel_requests).where(cancel_requests.c.commerce_entity_id == commerce_entity_id)
            ).first()
        return CancelRequest(**row._asdict()) if row else None

    def all(self) -> list[CancelRequest]:
        with self._engine.connect() as connection:
            rows = connection.execute(select(cancel_requests).order_by(cancel_requests.c.id)).all()
        return [CancelRequest(**row._asdict()) for row in rows]
