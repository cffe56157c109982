"""``INSERT ... ON CONFLICT DO NOTHING`` for both supported databases."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert


@cache
def _insert_or_nothing(dialect_name: str, table: Table) -> Insert:
    # Built once per table: the values go in as parameters, so SQLAlchemy compiles it once too (a hook's hot path).
    # RETURNING the key says whether the row went in: the rowcount cannot (PostgreSQL leaves it unknown, -1, where
    # SQLAlchemy fetches a new serial key itself).
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing().returning(*table.primary_key.columns)


def insert_if_absent(connection: Connection, table: Table, values: dict[str, Any]) -> bool:
    """Insert the row unless a unique key already holds it; True when this call inserted it."""
    return connection.execute(_insert_or_nothing(connection.dialect.name, table), values).first() is not None


def insert_id_if_absent(connection: Connection, table: Table, values: dict[str, Any]) -> int | None:
    """``insert_if_absent`` for a table keyed by ``id``: the new row's id, or None when one was there."""
    return connection.execute(_insert_or_nothing(connection.dialect.name, table), values).scalar()
