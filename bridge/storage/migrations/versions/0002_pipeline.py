"""The cancellation pipeline: feeds, job leases and results, shared rate buckets.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feeds",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("store_code", sa.String(64), nullable=False),
        sa.Column("seller_id", sa.String(64), nullable=False),
        sa.Column("marketplace_id", sa.String(32), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("message_count", sa.Integer, nullable=False),
        sa.Column("feed_document_id", sa.String(128), nullable=True),
        sa.Column("amazon_feed_id", sa.String(64), nullable=True),
        sa.Column("processing_status", sa.String(32), nullable=True),
        sa.Column("result_document_id", sa.String(128), nullable=True),
        sa.Column("poll_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_poll_at", sa.Float, nullable=True),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_expires_at", sa.Float, nullable=True),
        sa.Column("uploaded_at", sa.Float, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_feeds_state", "feeds", ["state"])
    op.create_index("uq_feeds_seller_amazon_feed", "feeds", ["seller_id", "amazon_feed_id"], unique=True)
    with op.batch_alter_table("cancel_requests") as batch:
        batch.add_column(sa.Column("amazon_item_ids", sa.Text, nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_attempt_at", sa.Float, nullable=False, server_default="0"))
        batch.add_column(sa.Column("confirm_checks", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("lease_owner", sa.String(64), nullable=True))
        batch.add_column(sa.Column("lease_expires_at", sa.Float, nullable=True))
        batch.add_column(sa.Column("feed_id", sa.Integer, nullable=True))
        batch.add_column(sa.Column("message_id", sa.Integer, nullable=True))
        batch.add_column(sa.Column("amazon_result_code", sa.String(64), nullable=True))
        batch.add_column(sa.Column("amazon_result_description", sa.Text, nullable=True))
        batch.add_column(sa.Column("last_error", sa.Text, nullable=True))
        batch.add_column(sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "rate_buckets",
        sa.Column("seller_id", sa.String(64), primary_key=True),
        sa.Column("operation", sa.String(64), primary_key=True),
        sa.Column("tokens", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rate_buckets")
    with op.batch_alter_table("cancel_requests") as batch:
        for column in (
            "completed_at", "last_error", "amazon_result_description", "amazon_result_code", "message_id", "feed_id",
            "lease_expires_at", "lease_owner", "confirm_checks", "next_attempt_at", "attempts", "amazon_item_ids",
        ):  # fmt: skip
            batch.drop_column(column)
    op.drop_index("uq_feeds_seller_amazon_feed", "feeds")
    op.drop_index("ix_feeds_state", "feeds")
    op.drop_table("feeds")
