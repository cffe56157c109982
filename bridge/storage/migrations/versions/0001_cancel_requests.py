"""Order links and cancel requests.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "order_links",
        sa.Column("commerce_entity_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("increment_id", sa.String(50), nullable=True),
        sa.Column("commerce_store_id", sa.Integer, nullable=True),
        sa.Column("amazon_order_id", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "cancel_requests",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("commerce_entity_id", sa.BigInteger, nullable=False),
        sa.Column("increment_id", sa.String(50), nullable=True),
        sa.Column("store_code", sa.String(64), nullable=False),
        sa.Column("seller_id", sa.String(64), nullable=False),
        sa.Column("marketplace_id", sa.String(32), nullable=False),
        sa.Column("amazon_order_id", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("decision", sa.String(32), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("commerce_request_id", sa.String(128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("commerce_entity_id", name="uq_cancel_requests_commerce_entity_id"),
    )
    op.create_index("ix_cancel_requests_state", "cancel_requests", ["state"])


def downgrade() -> None:
    op.drop_index("ix_cancel_requests_state", "cancel_requests")
    op.drop_table("cancel_requests")
    op.drop_table("order_links")
