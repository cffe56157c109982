"""The Alembic migrations build exactly the schema ``bridge/storage/tables.py`` describes, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bridge.storage.engine import make_engine, upgrade
from bridge.storage.tables import metadata
from tests.conftest import BOTH_DATABASES


@BOTH_DATABASES
def test_migrated_schema_matches_the_tables(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    engine.dispose()
    assert differences == []
