"""Keeping Commerce and Amazon true to each other: the Commerce link mirror, Amazon's cancellation facts, cancels
that started outside Commerce, and buyers' cancellation requests flagged once.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("order_links") as batch:
        batch.add_column(sa.Column("commerce_state", sa.String(32), nullable=True))
        batch.add_column(sa.Column("commerce_updated_at", sa.Float, nullable=True))
    op.create_index("ix_order_links_amazon_order_id", "order_links", ["amazon_order_id"])
    with op.batch_alter_table("order_mirror") as batch:
        batch.add_column(sa.Column("buyer_cancel_reason", sa.Text, nullable=True))
        batch.add_column(sa.Column("cancelled_by", sa.String(16), nullable=True))
        batch.add_column(sa.Column("cancel_reason", sa.Text, nullable=True))
    op.create_index("ix_order_mirror_status", "order_mirror", ["status"])
    with op.batch_alter_table("cancel_requests") as batch:
        batch.add_column(sa.Column("source", sa.String(16), nullable=False, server_default="commerce"))
        batch.add_column(sa.Column("amazon_cancelled_by", sa.String(16), nullable=True))
        batch.add_column(sa.Column("amazon_cancel_reason", sa.Text, nullable=True))
    op.create_table(
        "commerce_link_cursors",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("updated_after", sa.Float, nullable=True),
        sa.Column("complete_as_of", sa.Float, nullable=True),
        sa.Column("backfilled_at", sa.Float, nullable=True),
    )
    op.create_table(
        "buyer_cancel_notes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("amazon_order_id", sa.String(32), nullable=False),
        sa.Column("commerce_entity_id", sa.BigInteger, nullable=False),
        sa.Column("store_code", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("noted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", sa.Float, nullable=False, server_default="0"),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_expires_at", sa.Float, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("amazon_order_id", name="uq_buyer_cancel_notes_amazon_order_id"),
    )


def downgrade() -> None:
    op.drop_table("buyer_cancel_notes")
    op.drop_table("commerce_link_cursors")
    with op.batch_alter_table("cancel_requests") as batch:
        for column in ("amazon_cancel_reason", "amazon_cancelled_by", "source"):
            batch.drop_column(column)
    op.drop_index("ix_order_mirror_status", "order_mirror")
    with op.batch_alter_table("order_mirror") as batch:
        for column in ("cancel_reason", "cancelled_by", "buyer_cancel_reason"):
            batch.drop_column(column)
    op.drop_index("ix_order_links_amazon_order_id", "order_links")
    with op.batch_alter_table("order_links") as batch:
        for column in ("commerce_updated_at", "commerce_state"):
            batch.drop_column(column)
