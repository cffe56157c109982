"""Console accounts (the stored password hash, role, language), and the wrong passwords signed in with per name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, select, update

from bridge.domain.records import User, as_utc
from bridge.storage.tables import sign_in_failures, users, utcnow
from bridge.storage.upsert import insert_if_absent


def user_of(row: Any) -> User:
    return User(row.id, row.name, row.password_hash, row.role, row.locale, bool(row.disabled), as_utc(row.created_at))


class Users:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create(self, name: str, password_hash: str, role: str, locale: str | None) -> bool:
        """False when the name is taken."""
        with self._engine.begin() as connection:
            return insert_if_absent(
                connection,
                users,
                {"name": name, "password_hash": password_hash, "role": role, "locale": locale, "created_at": utcnow()},
            )

    def named(self, name: str) -> User | None:
        return self._one(users.c.name == name)

    def get(self, user_id: int) -> User | None:
        return self._one(users.c.id == user_id)

    def _one(self, condition: Any) -> User | None:
        with self._engine.connect() as connection:
            row = connection.execute(select(users).where(condition)).first()
        return user_of(row) if row else None

    def all(self) -> list[User]:
        with self._engine.connect() as connection:
            return [user_of(row) for row in connection.execute(select(users).order_by(users.c.name))]

    def set_disabled(self, name: str, disabled: bool) -> bool:
        """False when there is no such user."""
        with self._engine.begin() as connection:
            return connection.execute(update(users).where(users.c.name == name).values(disabled=disabled)).rowcount == 1

    def set_password_hash(self, name: str, password_hash: str) -> bool:
        """False when there is no such user."""
        with self._engine.begin() as connection:
            changed = connection.execute(update(users).where(users.c.name == name).values(password_hash=password_hash))
            return changed.rowcount == 1


@dataclass(frozen=True)
class Failures:
    count: int
    last_failed_at: float | None


class SignInFailures:
    """Counted in the database, so that every web process agrees on how long a name must wait."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def of(self, name: str) -> Failures:
        with self._engine.connect() as connection:
            row = connection.execute(select(sign_in_failures).where(sign_in_failures.c.name == name)).first()
        return Failures(row.failures, row.last_failed_at) if row else Failures(0, None)

    def note(self, name: str, now: float) -> None:
        """One more wrong password in a row for ``name`` (counted before the password is even checked, so that
        guesses sent side by side all count)."""
        with self._engine.begin() as connection:
            if not insert_if_absent(connection, sign_in_failures, {"name": name, "failures": 1, "last_failed_at": now}):
                connection.execute(
                    update(sign_in_failures)
                    .where(sign_in_failures.c.name == name)
                    .values(failures=sign_in_failures.c.failures + 1, last_failed_at=now)
                )

    def clear(self, name: str) -> None:
        with self._engine.begin() as connection:
            connection.execute(delete(sign_in_failures).where(sign_in_failures.c.name == name))

    def counts(self) -> dict[str, int]:
        with self._engine.connect() as connection:
            return dict(connection.execute(select(sign_in_failures.c.name, sign_in_failures.c.failures)).all())
