"""Engine creation and schema migrations, for SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import ColumnElement, Connection, Engine, create_engine, event, func
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError


@dataclass(frozen=True)
class DatabaseTimeouts:
    """How long the bridge waits on its database before treating it as down."""

    lock_wait_seconds: float  # SQLite: another process holds the write lock
    connect_seconds: int  # PostgreSQL: libpq counts whole seconds, and at least 2
    statement_ms: int | None  # PostgreSQL: the server cancels a statement running longer (None: no limit)
    pool_wait_seconds: float  # every pooled connection is busy
    # PostgreSQL: test each connection before use. A hook skips it (a round trip per checkout, as many as the hook's
    # own): a connection that died with a database restart fails one hook with "try again" and is dropped from the pool.
    ping_on_checkout: bool = True


# The worker and the CLI can wait: a slow database only delays them.
PATIENT = DatabaseTimeouts(lock_wait_seconds=5.0, connect_seconds=10, statement_ms=None, pool_wait_seconds=30.0)


def webhook_timeouts(budget_seconds: float) -> DatabaseTimeouts:
    """Waits that fit inside a webhook's budget, so a slow database costs a "try again" answer, never a late one."""
    return DatabaseTimeouts(
        lock_wait_seconds=budget_seconds * 0.4,
        connect_seconds=2,
        statement_ms=max(100, int(budget_seconds * 600)),
        pool_wait_seconds=budget_seconds * 0.3,
        ping_on_checkout=False,
    )


def make_engine(url: str, timeouts: DatabaseTimeouts = PATIENT) -> Engine:
    """An engine with SQLite set up for several processes (WAL, lock wait) or a pooled PostgreSQL one."""
    if url.startswith("sqlite:"):
        database = url.split("///", 1)[-1]
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": timeouts.lock_wait_seconds},
            pool_timeout=timeouts.pool_wait_seconds,
        )
        event.listen(engine, "connect", partial(_sqlite_pragmas, timeouts))
        return engine
    engine = create_engine(
        url,
        pool_pre_ping=timeouts.ping_on_checkout,
        pool_size=5,
        max_overflow=5,
        pool_timeout=timeouts.pool_wait_seconds,
        connect_args={"connect_timeout": timeouts.connect_seconds},
    )
    if timeouts.statement_ms is not None:
        event.listen(engine, "connect", partial(_postgres_statement_timeout, timeouts.statement_ms))
    return engine


@contextmanager
def advisory_write(engine: Engine) -> Iterator[Connection]:
    """A transaction whose commit does not wait for the disk: for writes that only hasten what the worker does on
    its own anyway (Commerce's after hook, which the worker would learn by reading the order back), so that losing
    the last ones to a power cut costs a delay, never a cancel. Everything else commits durably."""
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:  # a connection setting: set for this transaction, restored before the connection goes back
            connection.exec_driver_sql("PRAGMA synchronous=NORMAL")
            connection.commit()  # (SQLAlchemy began a transaction around the pragma)
        try:
            with connection.begin():
                if not sqlite:
                    connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
                yield connection
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA synchronous=FULL")
                connection.commit()


@contextmanager
def one_statement(engine: Engine) -> Iterator[Connection]:
    """A connection on which every statement commits on its own (autocommit): on PostgreSQL no BEGIN before it and
    no COMMIT or ROLLBACK after it, so a unit of work that is one statement (a hook's read, or its write) costs one
    round trip. Never for statements that must stand or fall together: each is a transaction of its own."""
    with engine.connect() as connection:
        yield connection.execution_options(isolation_level="AUTOCOMMIT")


def commit_without_waiting() -> ColumnElement[bool]:
    """PostgreSQL: a condition, always true, that turns ``synchronous_commit`` off for the transaction of the
    statement it is in: ``advisory_write``'s promise for a single statement run through ``one_statement``, where a
    ``SET LOCAL`` would need its own round trip and a BEGIN and COMMIT around it."""
    return func.set_config("synchronous_commit", "off", True) == "off"


def _sqlite_pragmas(timeouts: DatabaseTimeouts, dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={int(timeouts.lock_wait_seconds * 1000)}")
    cursor.execute("PRAGMA synchronous=FULL")  # a committed cancel survives a power cut
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _postgres_statement_timeout(statement_ms: int, dbapi_connection: Any, _record: Any) -> None:
    # Set per connection, not in the URL's options, so a URL's own options (a search_path) stay as they are.
    with dbapi_connection.cursor() as cursor:
        cursor.execute(f"SET statement_timeout = {int(statement_ms)}")
    dbapi_connection.commit()


class DatabaseUnusable(Exception):
    """The database cannot serve the bridge; the message says what to do (and never shows a password)."""


def shown(url: str) -> str:
    """The URL as it may be shown: without its password."""
    return make_url(url).render_as_string(hide_password=True)


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL or an in-memory database)."""
    if not url.startswith("sqlite:"):
        return None
    database = make_url(url).database
    return Path(database) if database and database != ":memory:" else None


def open_existing(url: str, timeouts: DatabaseTimeouts = PATIENT) -> Engine:
    """An engine on a database that exists, answers and is fully migrated; DatabaseUnusable otherwise.

    For the commands and the worker: they must not create an empty SQLite file elsewhere, nor run on a schema
    they do not know.
    """
    file = sqlite_file(url)
    if file is not None and not file.exists():
        raise DatabaseUnusable(f"no database at {file}: create it with 'bridge db upgrade' (or set DATABASE_URL)")
    engine = make_engine(url, timeouts)
    try:
        current = current_revision(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        problem = f"cannot use the database at {shown(url)}: {reason_of(exc)}; check DATABASE_URL"
        raise DatabaseUnusable(problem) from None
    head = head_revision()
    if current != head:
        engine.dispose()
        raise DatabaseUnusable(
            f"the database at {shown(url)} is at schema {current or 'none'}, this bridge needs {head}: "
            "run 'bridge db upgrade'"
        )
    return engine


def reason_of(exc: SQLAlchemyError) -> str:
    """The driver's own first line (a refused connection, a missing role), without SQLAlchemy's trailer."""
    original = getattr(exc, "orig", None) or exc
    first_line = str(original).strip().splitlines()[0] if str(original).strip() else exc.__class__.__name__
    return first_line[:300]


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", "bridge.storage:migrations")
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (``bridge db upgrade``, the Procfile's release step)."""
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
