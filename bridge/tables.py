"""The bridge's tables (SQLAlchemy Core). Changes go through an Alembic migration in bridge/migrations."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, MetaData, String, Table, UniqueConstraint


def utcnow() -> datetime:
    return datetime.now(UTC)


metadata = MetaData()

# Which Commerce order is which Amazon order. The link never changes, so one Commerce read per order suffices.
order_links = Table(
    "order_links",
    metadata,
    Column("commerce_entity_id", BigInteger, primary_key=True, autoincrement=False),
    Column("increment_id", String(50), nullable=True),
    Column("commerce_store_id", Integer, nullable=True),
    Column("amazon_order_id", String(32), nullable=True),  # None: not an Amazon order
    Column("created_at", DateTime(timezone=True), nullable=False, default=utcnow),
)

# One row per Commerce order whose cancel the bridge accepted; the pipeline drives it to a final state.
cancel_requests = Table(
    "cancel_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("commerce_entity_id", BigInteger, nullable=False),
    Column("increment_id", String(50), nullable=True),
    Column("store_code", String(64), nullable=False),
    Column("seller_id", String(64), nullable=False),
    Column("marketplace_id", String(32), nullable=False),
    Column("amazon_order_id", String(32), nullable=False),
    Column("reason", String(64), nullable=False),
    Column("decision", String(32), nullable=False),
    Column("state", String(32), nullable=False),
    Column("commerce_request_id", String(128), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, default=utcnow),
    Column("updated_at", DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow),
    UniqueConstraint("commerce_entity_id", name="uq_cancel_requests_commerce_entity_id"),
    Index("ix_cancel_requests_state", "state"),
)
