"""``INSERT ... ON CONFLICT DO NOTHING`` for both supported databases."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_if_absent(connection: Connection, table: Table, values: dict[str, Any]) -> bool:
    """Insert the row unless a unique key already holds it; True when this call inserted it."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    result = connection.execute(dialect.insert(table).values(**values).on_conflict_do_nothing())
    return result.rowcount == 1
