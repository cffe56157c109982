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
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


def insert_if_absent(connection: Connection, table: Table, values: dict[str, Any]) -> bool:
    """Insert the row unless a unique key already holds it; True when this call inserted it."""
    result = connection.execute(_insert_or_nothing(connection.dialect.name, table), values)
    return result.rowcount == 1


@cache
def _insert_or_nothing_returning_id(dialect_name: str, table: Table) -> Insert:
    return _insert_or_nothing(dialect_name, table).returning(table.c.id)


def insert_id_if_absent(connection: Connection, table: Table, values: dict[str, Any]) -> int | None:
    """``insert_if_absent`` for a table with an ``id`` column: the new row's id, or None when one was there."""
    statement = _insert_or_nothing_returning_id(connection.dialect.name, table)
    return connection.execute(statement, values).scalars().first()
