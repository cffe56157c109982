"""Order pairs: each Commerce order linked to an Amazon order, as the two mirrors last saw them, with the bridge's
cancel request for it. What reconciliation reads (the reflect step, ``bridge drift``)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, and_, or_, select

from bridge.domain.amazon_order import FulfilledBy, FulfillmentStatus
from bridge.domain.commerce_order import OPEN_STATES, CommerceState
from bridge.domain.reconciliation import OrderPair
from bridge.domain.states import RequestState
from bridge.storage.tables import buyer_cancel_notes, cancel_requests, order_links, order_mirror


def _pairs() -> Select[Any]:
    return (
        select(
            order_links.c.commerce_entity_id,
            order_links.c.increment_id,
            order_links.c.commerce_state,
            order_mirror.c.store_code,
            order_mirror.c.amazon_order_id,
            order_mirror.c.status.label("amazon_status"),
            order_mirror.c.fulfilled_by,
            order_mirror.c.buyer_requested_cancel,
            order_mirror.c.buyer_cancel_reason,
            order_mirror.c.cancelled_by,
            order_mirror.c.cancel_reason,
            cancel_requests.c.id.label("request_id"),
            cancel_requests.c.state.label("request_state"),
        )
        .join(order_mirror, order_mirror.c.amazon_order_id == order_links.c.amazon_order_id)
        .outerjoin(cancel_requests, cancel_requests.c.commerce_entity_id == order_links.c.commerce_entity_id)
        .order_by(order_links.c.commerce_entity_id)
    )


def _pair(row: Any) -> OrderPair:
    return OrderPair(
        commerce_entity_id=row.commerce_entity_id,
        increment_id=row.increment_id,
        commerce_state=row.commerce_state,
        store_code=row.store_code,
        amazon_order_id=row.amazon_order_id,
        amazon_status=row.amazon_status,
        fulfilled_by=row.fulfilled_by,
        buyer_requested_cancel=bool(row.buyer_requested_cancel),
        buyer_cancel_reason=row.buyer_cancel_reason,
        cancelled_by=row.cancelled_by,
        cancel_reason=row.cancel_reason,
        request_id=row.request_id,
        request_state=row.request_state,
    )


def _commerce_open() -> ColumnElement[bool]:
    return order_links.c.commerce_state.in_(sorted(OPEN_STATES))


class OrderPairs:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _select(self, query: Select[Any]) -> list[OrderPair]:
        with self._engine.connect() as connection:
            return [_pair(row) for row in connection.execute(query)]

    def maybe_drifting(self) -> list[OrderPair]:
        """The pairs whose two sides may disagree (reconciliation's ``drift_of`` decides): canceled at Amazon and
        open in Commerce, or canceled or Complete in Commerce and not canceled at Amazon. The mirror holds every
        order of every store, so the rest stay in the database."""
        canceled_at_amazon = order_mirror.c.status == FulfillmentStatus.CANCELLED
        ended_in_commerce = order_links.c.commerce_state.in_(sorted({CommerceState.CANCELED, CommerceState.COMPLETE}))
        return self._select(
            _pairs().where(
                or_(and_(canceled_at_amazon, _commerce_open()), and_(~canceled_at_amazon, ended_in_commerce))
            )
        )

    def canceled_at_amazon_open_in_commerce(self, limit: int) -> list[OrderPair]:
        """Candidates for reflecting an Amazon-side cancel (the rule itself is reconciliation's)."""
        request_free = cancel_requests.c.id.is_(None) | (
            cancel_requests.c.state == RequestState.NOT_CANCELED_IN_COMMERCE
        )
        return self._select(
            _pairs()
            .where(order_mirror.c.status == FulfillmentStatus.CANCELLED, _commerce_open(), request_free)
            .limit(limit)
        )

    def buyer_requests_not_yet_seen(self, limit: int) -> list[OrderPair]:
        """Candidates for flagging a buyer's request: Unshipped, open in Commerce, no request, not flagged yet."""
        return self._select(
            _pairs()
            .outerjoin(buyer_cancel_notes, buyer_cancel_notes.c.amazon_order_id == order_mirror.c.amazon_order_id)
            .where(
                and_(
                    order_mirror.c.buyer_requested_cancel.is_(True),
                    order_mirror.c.fulfilled_by == FulfilledBy.MERCHANT,
                    order_mirror.c.status == FulfillmentStatus.UNSHIPPED,
                    _commerce_open(),
                    cancel_requests.c.id.is_(None),
                    buyer_cancel_notes.c.id.is_(None),
                )
            )
            .limit(limit)
        )

    def for_amazon_orders(self, amazon_order_ids: Collection[str]) -> list[OrderPair]:
        return self._select(_pairs().where(order_mirror.c.amazon_order_id.in_(sorted(amazon_order_ids))))
