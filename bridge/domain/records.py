"""The records every layer passes around: cancel requests, their timeline, feeds, order links, operators.

Storage makes them from rows (and makes every time in them UTC-aware, once, there); the pipeline, the services,
the console, the API and the CLI read them without knowing where they were kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bridge.domain.commerce_order import CommerceOrder
from bridge.domain.order_importers import Importer, amazon_order_id
from bridge.domain.states import RequestState, Source
from bridge.domain.stores import Store


def as_utc(moment: datetime) -> datetime:
    """SQLite gives back the UTC times it was given without their zone; PostgreSQL keeps it."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
    commerce_request_id: str | None = None  # Commerce's x-adobe-commerce-request-id, for a cancel made there
    source: str = Source.COMMERCE
    amazon_cancelled_by: str | None = None
    amazon_cancel_reason: str | None = None
    actor: str | None = None  # the console user or API token that started it

    @classmethod
    def at_store(
        cls,
        store: Store,
        *,
        commerce_entity_id: int,
        increment_id: str | None,
        amazon_order_id: str,
        reason: str,
        decision: str,
        source: str,
        marketplace_id: str | None = None,
        amazon_item_ids: tuple[str, ...] = (),
        **more: str | None,
    ) -> NewCancelRequest:
        """A request for an order of ``store``: its seller, and its marketplace unless the order names its own;
        ``more`` sets the optional fields (who asked, Amazon's own cancel, Commerce's request id)."""
        return cls(
            commerce_entity_id=commerce_entity_id, increment_id=increment_id, store_code=store.code,
            seller_id=store.seller_id, marketplace_id=marketplace_id or store.marketplace_id,
            amazon_order_id=amazon_order_id, amazon_item_ids=amazon_item_ids, reason=reason, decision=decision,
            source=source, **more,
        )  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class CancelRequest(NewCancelRequest):
    id: int
    state: str
    attempts: int
    next_attempt_at: float
    confirm_checks: int
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


@dataclass(frozen=True)
class TimelineEvent:
    """A request entered ``state`` at ``at``; ``actor`` is who moved it, where a person or a tool did."""

    state: str
    at: datetime
    actor: str | None


@dataclass(frozen=True)
class RequestOutcome:
    """Where one request of a feed goes next, and what else changes with it."""

    state: RequestState
    values: dict[str, Any]


@dataclass(frozen=True)
class ReadyGroup:
    """Requests that could share one feed, and since when they have been waiting (epoch seconds)."""

    key: tuple[str, str, str]  # store, seller, marketplace
    count: int
    oldest: float
    newest: float


@dataclass(frozen=True)
class RequestSearch:
    """What an operator looks for among the requests; every part given must match."""

    state: str | None = None
    store_code: str | None = None
    increment_id: str | None = None
    amazon_order_id: str | None = None
    since: datetime | None = None  # last changed at or after


@dataclass(frozen=True)
class FeedRecord:
    id: int
    store_code: str
    seller_id: str
    marketplace_id: str
    state: str
    message_count: int
    feed_document_id: str | None
    amazon_feed_id: str | None
    processing_status: str | None
    result_document_id: str | None
    poll_count: int
    next_poll_at: float | None
    lease_owner: str | None
    lease_expires_at: float | None
    uploaded_at: float | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class OrderLink:
    """Which Amazon order a Commerce order is (None: not an Amazon order), and its Commerce state as last seen."""

    commerce_entity_id: int
    increment_id: str | None
    commerce_store_id: int | None
    amazon_order_id: str | None
    commerce_state: str | None = None
    commerce_updated_at: float | None = None

    @classmethod
    def of(cls, order: CommerceOrder, importers: Iterable[Importer]) -> OrderLink:
        return cls(
            order.entity_id,
            order.increment_id,
            order.store_id,
            amazon_order_id(order, importers),
            order.state,
            order.updated_at,
        )


@dataclass(frozen=True)
class User:
    """A console account."""

    id: int
    name: str
    password_hash: str
    role: str
    locale: str | None
    disabled: bool
    created_at: datetime
    session_version: int  # a console session opens the console only while it holds this number
