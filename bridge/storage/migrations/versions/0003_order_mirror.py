"""Amazon order-status mirror and its per-store refresh cursors.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "order_mirror",
        sa.Column("amazon_order_id", sa.String(32), primary_key=True),
        sa.Column("store_code", sa.String(64), nullable=False),
        sa.Column("marketplace_id", sa.String(32), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("fulfilled_by", sa.String(16), nullable=True),
        sa.Column("item_ids", sa.Text, nullable=False),
        sa.Column("buyer_requested_cancel", sa.Boolean, nullable=False),
        sa.Column("last_updated", sa.Float, nullable=True),
        sa.Column("seen_at", sa.Float, nullable=False),
    )
    op.create_table(
        "mirror_cursors",
        sa.Column("store_code", sa.String(64), primary_key=True),
        sa.Column("updated_after", sa.Float, nullable=True),
        sa.Column("complete_as_of", sa.Float, nullable=True),
        sa.Column("backfilled_at", sa.Float, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("mirror_cursors")
    op.drop_table("order_mirror")
