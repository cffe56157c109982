"""Wrong passwords in a row, per counter (a name signed in with, or a client address), kept in the database so that
every web process agrees.

An attempt takes its place in every counter before its password is checked: one ``INSERT ... ON CONFLICT DO UPDATE
... WHERE <the rule lets one more try> RETURNING`` per counter, all in one transaction. PostgreSQL and SQLite both
run that statement atomically against the newest version of the row (PostgreSQL locks it; SQLite holds its one write
lock), so however many attempts arrive together, each one sees every place taken before it, and no more of them go
ahead than the rule allows. A refused attempt changes no counter: the transaction is rolled back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from sqlalchemy import Engine, Float, String, bindparam, case, delete, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from bridge.domain.sign_in_throttle import ThrottleRule
from bridge.storage.tables import sign_in_failures

_NOW = bindparam("now", type_=Float)
_KEY = bindparam("key", type_=String)


@dataclass(frozen=True)
class Failures:
    count: int
    last_failed_at: float | None


@dataclass(frozen=True)
class Counter:
    key: str  # at most 64 characters
    rule: ThrottleRule


@dataclass(frozen=True)
class Refused:
    """The counter that turned an attempt away, and for how long."""

    counter: Counter
    wait_seconds: float


@cache
def _take_place(dialect_name: str, rule: ThrottleRule) -> Insert:
    """One more failure for the key, unless the rule makes it wait (then no row comes back); a counter quiet for
    the rule's ``forget_after_seconds`` starts again from one. The rule's waits go in as a ``CASE`` table."""
    table = sign_in_failures
    failures, last_failed_at = table.c.failures, table.c.last_failed_at
    steps = [(failures == count, literal(seconds)) for count, seconds in rule.rising_waits()]
    longest = literal(rule.longest_wait_seconds)
    wait = case(*steps, else_=longest) if steps else longest
    forgotten = last_failed_at <= _NOW - rule.forget_after_seconds
    may_try = or_(forgotten, failures <= rule.free_failures, last_failed_at + wait <= _NOW)
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return (
        dialect.insert(table)
        .values(name=_KEY, failures=1, last_failed_at=_NOW)
        .on_conflict_do_update(
            index_elements=[table.c.name],
            set_={"failures": case((forgotten, 1), else_=failures + 1), "last_failed_at": _NOW},
            where=may_try,
        )
        .returning(failures)
    )


class SignInFailures:
    """Counted in the database, so that every web process agrees on who must wait."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def of(self, key: str) -> Failures:
        with self._engine.connect() as connection:
            row = connection.execute(select(sign_in_failures).where(sign_in_failures.c.name == key)).first()
        return Failures(row.failures, row.last_failed_at) if row else Failures(0, None)

    def take_places(self, counters: Sequence[Counter], now: float) -> list[int] | Refused:
        """Count one more failure in every counter, or in none: this attempt's place in each (its count, this
        attempt included), or the first counter that makes it wait. Taken in the order given (every caller gives
        the same order, so two transactions never wait for each other's rows)."""
        places: list[int] = []
        with self._engine.connect() as connection, connection.begin() as transaction:
            for counter in counters:
                statement = _take_place(connection.dialect.name, counter.rule)
                place = connection.execute(statement, {"key": counter.key, "now": now}).scalar()
                if place is None:
                    row = connection.execute(
                        select(sign_in_failures).where(sign_in_failures.c.name == counter.key)
                    ).one()
                    transaction.rollback()
                    wait = counter.rule.seconds_to_wait(row.failures, row.last_failed_at, now)
                    return Refused(counter, wait)
                places.append(place)
        return places

    def give_back(self, keys: Iterable[str]) -> None:
        """Take back one counted attempt from each key (it was not checked after all, or it proved right). One row
        at a time, in the order given (that of ``take_places``): rows locked in another order could deadlock."""
        table = sign_in_failures
        with self._engine.begin() as connection:
            for key in keys:
                connection.execute(
                    update(table).where(table.c.name == key, table.c.failures > 0).values(failures=table.c.failures - 1)
                )

    def forgive(self, key: str, place: int) -> None:
        """A right password clears the failures before it, unless attempts counted after it are still out: those
        keep the count (and the wait it brings) until each is judged on its own."""
        with self._engine.begin() as connection:
            connection.execute(
                delete(sign_in_failures).where(sign_in_failures.c.name == key, sign_in_failures.c.failures <= place)
            )

    def clear(self, key: str) -> None:
        with self._engine.begin() as connection:
            connection.execute(delete(sign_in_failures).where(sign_in_failures.c.name == key))

    def prune(self, before: float) -> None:
        """Drop the counters quiet since ``before``: the rules have forgotten them already. Rows another attempt
        holds are skipped (PostgreSQL), so that pruning never waits for one, nor deadlocks with it."""
        table = sign_in_failures
        quiet = select(table.c.name).where(table.c.last_failed_at < before).with_for_update(skip_locked=True)
        with self._engine.begin() as connection:
            connection.execute(delete(table).where(table.c.name.in_(quiet)))

    def counts(self) -> dict[str, int]:
        with self._engine.connect() as connection:
            return dict(connection.execute(select(sign_in_failures.c.name, sign_in_failures.c.failures)).all())
