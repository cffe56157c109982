"""Durable cancel requests: what the webhook accepted and the pipeline must carry through."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import Engine, select

from bridge.job_states import RequestState
from bridge.tables import cancel_requests, utcnow
from bridge.upsert import insert_if_absent


@dataclass(frozen=True)
class NewCancelRequest:
    commerce_entity_id: int
    increment_id: str | None
    store_code: str
    seller_id: str
    marketplace_id: str
    amazon_order_id: str
    amazon_item_ids: tuple[str, ...]
    reason: str
    decision: str
    commerce_request_id: str | None


@dataclass(frozen=True)
class CancelRequest(NewCancelRequest):
    id: int
    state: str
    attempts: int
    next_attempt_at: float
    lease_owner: str | None
    lease_expires_at: float | None
    feed_id: int | None
    message_id: int | None
    amazon_result_code: str | None
    amazon_result_description: str | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None

    @classmethod
    def from_row(cls, row: object) -> CancelRequest:
        values = {f.name: getattr(row, f.name) for f in fields(cls)}
        values["amazon_item_ids"] = tuple(json.loads(values["amazon_item_ids"] or "[]"))
        return cls(**values)


class CancelRequests:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record(self, request: NewCancelRequest) -> bool:
        """Store the request once per Commerce order; a retry or double click finds it there (False)."""
        now = utcnow()
        values = {f.name: getattr(request, f.name) for f in fields(NewCancelRequest)}
        values["amazon_item_ids"] = json.dumps(list(request.amazon_item_ids))
        with self._engine.begin() as connection:
            return insert_if_absent(
                connection,
                cancel_requests,
                {**values, "state": RequestState.PENDING, "created_at": now, "updated_at": now},
            )

    def for_commerce_order(self, commerce_entity_id: int) -> CancelRequest | None:
        with self._engine.connect() as connection:
            row = connection.execute(
                select(cancel_requests).where(cancel_requests.c.commerce_entity_id == commerce_entity_id)
            ).first()
        return CancelRequest.from_row(row) if row else None

    def get(self, request_id: int) -> CancelRequest | None:
        with self._engine.connect() as connection:
            row = connection.execute(select(cancel_requests).where(cancel_requests.c.id == request_id)).first()
        return CancelRequest.from_row(row) if row else None

    def all(self, state: str | None = None, limit: int | None = None) -> list[CancelRequest]:
        query = select(cancel_requests).order_by(cancel_requests.c.id)
        if state is not None:
            query = query.where(cancel_requests.c.state == state)
        if limit is not None:
            query = query.limit(limit)
        with self._engine.connect() as connection:
            return [CancelRequest.from_row(row) for row in connection.execute(query)]
