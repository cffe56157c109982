"""Leases: how several workers share the job tables without doing the same work twice.

A worker claims rows by stamping them with its id and an expiry in one UPDATE. On PostgreSQL the rows to claim are
picked with ``FOR UPDATE SKIP LOCKED``; on SQLite the single statement is atomic under the database lock. A worker
that dies leaves its rows to whoever comes after the lease runs out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Engine, Row, Select, Table, or_, select, update


def lease_is_free(table: Table, now: float) -> ColumnElement[bool]:
    """Unleased, or the lease ran out (its worker died or stalled)."""
    return or_(table.c.lease_expires_at.is_(None), table.c.lease_expires_at < now)


def ids_to_claim(table: Table, where: list[Any], limit: int) -> Select[Any]:
    """Oldest rows first, skipping rows another worker holds locked right now (PostgreSQL)."""
    return select(table.c.id).where(*where).order_by(table.c.id).limit(limit).with_for_update(skip_locked=True)


def claim_rows(
    engine: Engine, table: Table, due: list[Any], owner: str, now: float, lease: float, limit: int
) -> Sequence[Row[Any]]:
    """Lease up to ``limit`` rows matching ``due`` to ``owner``, atomically (one statement), oldest first."""
    with engine.begin() as connection:
        rows = connection.execute(
            update(table)
            .where(table.c.id.in_(ids_to_claim(table, due, limit).scalar_subquery()), *due)
            .values(lease_owner=owner, lease_expires_at=now + lease)
            .returning(*table.c)
        ).all()
    return sorted(rows, key=lambda row: row.id)
