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


def ids_to_claim(table: Table, where: list[Any], limit: int, order_by: Sequence[Any] = ()) -> Select[Any]:
    """Oldest rows first (or first by ``order_by``, then oldest), skipping rows another worker holds locked right
    now (PostgreSQL)."""
    query = select(table.c.id).where(*where).order_by(*order_by, table.c.id).limit(limit)
    return query.with_for_update(skip_locked=True)


def claim_rows(
    engine: Engine,
    table: Table,
    due: list[Any],
    owner: str,
    now: float,
    lease: float,
    limit: int,
    order_by: Sequence[Any] = (),
) -> Sequence[Row[Any]]:
    """Lease up to ``limit`` rows matching ``due`` to ``owner``, atomically (one statement), oldest first (or first
    by ``order_by``); returned in id order."""
    # The ids are picked once, in a materialized CTE: PostgreSQL may otherwise run the sub-select again for each row
    # it updates, and a second run no longer sees the first row as free (this statement just leased it), so it picks
    # the next one: a claim of one row would lease two, and the second would sit leased, untouched, until its lease
    # ran out.
    picked = ids_to_claim(table, due, limit, order_by).cte(f"claimable_{table.name}")
    picked = picked.prefix_with("MATERIALIZED", dialect="postgresql")
    with engine.begin() as connection:
        rows = connection.execute(
            update(table)
            .where(table.c.id.in_(select(picked.c.id)), *due)
            .values(lease_owner=owner, lease_expires_at=now + lease)
            .returning(*table.c)
        ).all()
    return sorted(rows, key=lambda row: row.id)
