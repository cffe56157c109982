"""The console and the API: operator accounts and their failed sign-ins, API tokens, idempotency keys, each
request's timeline and actor, and the order lines and creation time the order details page shows.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("locale", sa.String(8), nullable=True),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("name", name="uq_users_name"),
    )
    op.create_table(
        "sign_in_failures",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_failed_at", sa.Float, nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("name", name="uq_api_tokens_name"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("token_name", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("response_body", sa.Text, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])
    op.create_table(
        "request_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.Integer, nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(80), nullable=True),
    )
    op.create_index("ix_request_events_request_id", "request_events", ["request_id"])
    with op.batch_alter_table("cancel_requests") as batch:
        batch.add_column(sa.Column("actor", sa.String(80), nullable=True))
    with op.batch_alter_table("order_mirror") as batch:
        batch.add_column(sa.Column("lines", sa.Text, nullable=True))
        batch.add_column(sa.Column("created_time", sa.Float, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("order_mirror") as batch:
        for column in ("created_time", "lines"):
            batch.drop_column(column)
    with op.batch_alter_table("cancel_requests") as batch:
        batch.drop_column("actor")
    op.drop_index("ix_request_events_request_id", "request_events")
    op.drop_index("ix_idempotency_keys_created_at", "idempotency_keys")
    for table in ("request_events", "idempotency_keys", "api_tokens", "sign_in_failures", "users"):
        op.drop_table(table)
