"""Every order of each store in the order mirror, and the console's order list over it.

The mirror used to hold open seller-fulfilled orders only: every store's backfill is started over (every status,
whoever fulfills it), a window at a time from where it got to (``backfill_before``), beside the refreshes. The list
counts, filters and pages a store's orders in SQL, newest first: indexes by store, by store and Amazon status, and
an order's newest cancel request.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The list's order: when Amazon created the order (else when it last changed, else when the bridge first saw it).
NEWEST = sa.text("coalesce(created_time, last_updated, seen_at)")


def upgrade() -> None:
    with op.batch_alter_table("mirror_cursors") as batch:
        batch.add_column(sa.Column("backfill_before", sa.Float, nullable=True))
    op.execute("UPDATE mirror_cursors SET backfilled_at = NULL")
    op.create_index("ix_order_mirror_store_newest", "order_mirror", ["store_code", NEWEST, "amazon_order_id"])
    op.create_index(
        "ix_order_mirror_store_status_newest", "order_mirror", ["store_code", "status", NEWEST, "amazon_order_id"]
    )
    op.create_index("ix_cancel_requests_amazon_order_id", "cancel_requests", ["amazon_order_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_cancel_requests_amazon_order_id", "cancel_requests")
    op.drop_index("ix_order_mirror_store_status_newest", "order_mirror")
    op.drop_index("ix_order_mirror_store_newest", "order_mirror")
    with op.batch_alter_table("mirror_cursors") as batch:
        batch.drop_column("backfill_before")
