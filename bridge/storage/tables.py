"""The bridge's tables (SQLAlchemy Core). Changes go through an Alembic migration in storage/migrations/."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
)

from bridge.domain.records import as_utc


def utcnow() -> datetime:
    return datetime.now(UTC)


def epoch(moment: datetime | str) -> float:
    """Epoch seconds of a stored UTC time (SQLite's aggregates return it as text, and without its zone)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return as_utc(moment).timestamp()


metadata = MetaData()
COMMERCE_REQUEST_ID_LENGTH = 128  # longer x-adobe-commerce-request-id values are stored cut to this

# Which Commerce order is which Amazon order (the link never changes once imported), and the Commerce order's state
# as last seen: filled ahead of the admin's click by the Commerce link mirror, or on the first hook.
order_links = Table(
    "order_links",
    metadata,
    Column("commerce_entity_id", BigInteger, primary_key=True, autoincrement=False),
    Column("increment_id", String(50), nullable=True),
    Column("commerce_store_id", Integer, nullable=True),
    Column("amazon_order_id", String(32), nullable=True),  # None: not an Amazon order
    Column("created_at", DateTime(timezone=True), nullable=False, default=utcnow),
    Column("commerce_state", String(32), nullable=True),
    Column("commerce_updated_at", Float, nullable=True),  # Commerce's updated_at, epoch seconds
    Index("ix_order_links_amazon_order_id", "amazon_order_id"),
)

# Per Commerce: the link mirror resumes its search from updated_after; it holds every change up to complete_as_of.
commerce_link_cursors = Table(
    "commerce_link_cursors",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("updated_after", Float, nullable=True),
    Column("complete_as_of", Float, nullable=True),
    Column("backfilled_at", Float, nullable=True),
)

# A buyer's cancellation request seen at Amazon, flagged once on the Commerce order (one row per Amazon order).
buyer_cancel_notes = Table(
    "buyer_cancel_notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("amazon_order_id", String(32), nullable=False),
    Column("commerce_entity_id", BigInteger, nullable=False),
    Column("store_code", String(64), nullable=False),
    Column("reason", Text, nullable=True),
    Column("noted_at", DateTime(timezone=True), nullable=True),  # None: the comment is still due
    Column("next_attempt_at", Float, nullable=False, default=0.0, server_default="0"),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_expires_at", Float, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, default=utcnow),
    UniqueConstraint("amazon_order_id", name="uq_buyer_cancel_notes_amazon_order_id"),
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
    Column("commerce_request_id", String(COMMERCE_REQUEST_ID_LENGTH), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, default=utcnow),
    Column("updated_at", DateTime(timezone=True), nullable=False, default=utcnow),  # the last state change
    Column("amazon_item_ids", Text, nullable=True),  # JSON list of 14-digit order item codes
    Column("attempts", Integer, nullable=False, default=0),  # feeds this request went out in
    Column("next_attempt_at", Float, nullable=False, default=0.0),  # epoch seconds; back-off after faults
    Column("confirm_checks", Integer, nullable=False, default=0),  # status reads after a clean report
    Column("lease_owner", String(64), nullable=True),
    Column("lease_expires_at", Float, nullable=True),
    Column("feed_id", Integer, nullable=True),
    Column("message_id", Integer, nullable=True),
    Column("amazon_result_code", String(64), nullable=True),
    Column("amazon_result_description", Text, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("completed_at", DateTime(timezone=True), nullable=True),
    # Where the cancel started: a Commerce cancel ("commerce"), one made at Amazon outside the bridge ("amazon"),
    # or the bridge acting on a buyer's request ("buyer_request").
    Column("source", String(16), nullable=False, default="commerce", server_default="commerce"),
    Column("amazon_cancelled_by", String(16), nullable=True),  # who canceled at Amazon, for "amazon" requests
    Column("amazon_cancel_reason", Text, nullable=True),
    Column("actor", String(80), nullable=True),  # who started it: a console user's or an API token's name
    UniqueConstraint("commerce_entity_id", name="uq_cancel_requests_commerce_entity_id"),
    Index("ix_cancel_requests_state", "state"),
    Index("ix_cancel_requests_amazon_order_id", "amazon_order_id", "id"),  # an order's newest request
)

# One OrderAcknowledgement feed per seller and marketplace batch, from building to its processing report.
feeds = Table(
    "feeds",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("store_code", String(64), nullable=False),
    Column("seller_id", String(64), nullable=False),
    Column("marketplace_id", String(32), nullable=False),
    Column("state", String(32), nullable=False),
    Column("message_count", Integer, nullable=False),
    Column("feed_document_id", String(128), nullable=True),
    Column("amazon_feed_id", String(64), nullable=True),
    Column("processing_status", String(32), nullable=True),
    Column("result_document_id", String(128), nullable=True),
    Column("poll_count", Integer, nullable=False, default=0),
    Column("next_poll_at", Float, nullable=True),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_expires_at", Float, nullable=True),
    Column("uploaded_at", Float, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, default=utcnow),
    Column("updated_at", DateTime(timezone=True), nullable=False, default=utcnow),  # the last state change
    Index("ix_feeds_state", "state"),
    # Amazon's feed ids are unique per seller: two feed records can never follow the same Amazon feed.
    Index("uq_feeds_seller_amazon_feed", "seller_id", "amazon_feed_id", unique=True),
)

# Amazon's quota buckets, shared by every web and worker process (tokens as of updated_at, epoch seconds).
rate_buckets = Table(
    "rate_buckets",
    metadata,
    Column("seller_id", String(64), primary_key=True),
    Column("operation", String(64), primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# What the bridge last learned of each Amazon order (from searchOrders pages or getOrder), shared by all processes.
order_mirror = Table(
    "order_mirror",
    metadata,
    Column("amazon_order_id", String(32), primary_key=True),
    Column("store_code", String(64), nullable=False),
    Column("marketplace_id", String(32), nullable=True),
    Column("status", String(32), nullable=False),
    Column("fulfilled_by", String(16), nullable=True),
    Column("item_ids", Text, nullable=False),  # JSON list
    Column("buyer_requested_cancel", Boolean, nullable=False),
    Column("last_updated", Float, nullable=True),  # Amazon's lastUpdatedTime, epoch seconds
    Column("seen_at", Float, nullable=False),
    Column("buyer_cancel_reason", Text, nullable=True),
    Column("cancelled_by", String(16), nullable=True),
    Column("cancel_reason", Text, nullable=True),
    Column("lines", Text, nullable=True),  # JSON list of the order's items: id, SKU, title, quantity
    Column("created_time", Float, nullable=True),  # Amazon's createdTime, epoch seconds
    Index("ix_order_mirror_status", "status"),
)
# The console's order list: a store's orders newest first, all or of one Amazon status, counted and paged in SQL.
MIRROR_NEWEST = func.coalesce(order_mirror.c.created_time, order_mirror.c.last_updated, order_mirror.c.seen_at)
Index("ix_order_mirror_store_newest", order_mirror.c.store_code, MIRROR_NEWEST, order_mirror.c.amazon_order_id)
Index(
    "ix_order_mirror_store_status_newest",
    order_mirror.c.store_code, order_mirror.c.status, MIRROR_NEWEST, order_mirror.c.amazon_order_id,
)  # fmt: skip

# Per store: searchOrders resumes from updated_after; the mirror holds every change up to complete_as_of.
mirror_cursors = Table(
    "mirror_cursors",
    metadata,
    Column("store_code", String(64), primary_key=True),
    Column("updated_after", Float, nullable=True),
    Column("complete_as_of", Float, nullable=True),
    Column("backfilled_at", Float, nullable=True),  # None: the backfill is under way
    Column("backfill_before", Float, nullable=True),  # the backfill has read every order created from then on
)

# Every state a cancel request entered, when, and who moved it where a person or a tool did: the order page's timeline.
request_events = Table(
    "request_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", Integer, nullable=False),
    Column("state", String(32), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(80), nullable=True),
    Index("ix_request_events_request_id", "request_id"),
)

# Console accounts. Passwords are kept as Argon2id hashes.
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),  # viewer or operator
    Column("locale", String(8), nullable=True),  # None: from the browser
    Column("disabled", Boolean, nullable=False, default=False, server_default=false()),
    Column("created_at", DateTime(timezone=True), nullable=False, default=utcnow),
    # Kept in each console session at sign-in; raised to end them all (sign-out, a new password, disabling).
    Column("session_version", Integer, nullable=False, default=0, server_default="0"),
    UniqueConstraint("name", name="uq_users_name"),
)

# Wrong passwords in a row per name signed in with, whether or not an account has it (the throttle must not tell).
sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failed_at", Float, nullable=False),
)

# API tokens: only the SHA-256 of each token is kept (the token itself is shown once, when created).
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, default=utcnow),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("last_used_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("name", name="uq_api_tokens_name"),
    UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
)

# The answer given to each (token, Idempotency-Key), replayed when the same call comes again.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("token_name", String(64), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),  # SHA-256 of the request body
    Column("status_code", Integer, nullable=True),  # None: the first call is still being answered
    Column("response_body", Text, nullable=True),
    Column("created_at", Float, nullable=False),
    Index("ix_idempotency_keys_created_at", "created_at"),  # the day-old ones are deleted
)
