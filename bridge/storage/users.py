"""Console accounts: the stored password hash, role, language, and the count of failed sign-ins in a row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, update

from bridge.storage.tables import users, utcnow
from bridge.storage.upsert import insert_if_absent


@dataclass(frozen=True)
class User:
    id: int
    name: str
    password_hash: str
    role: str
    locale: str | None
    disabled: bool
    failed_sign_ins: int
    last_failed_at: float | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> User:
        return cls(
            row.id, row.name, row.password_hash, row.role, row.locale, bool(row.disabled), row.failed_sign_ins,
            row.last_failed_at, row.created_at,
        )  # fmt: skip


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
        return User.from_row(row) if row else None

    def all(self) -> list[User]:
        with self._engine.connect() as connection:
            return [User.from_row(row) for row in connection.execute(select(users).order_by(users.c.name))]

    def set_disabled(self, name: str, disabled: bool) -> bool:
        """False when there is no such user."""
        with self._engine.begin() as connection:
            return connection.execute(update(users).where(users.c.name == name).values(disabled=disabled)).rowcount == 1

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        with self._engine.begin() as connection:
            connection.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))

    def note_failure(self, user_id: int, now: float) -> None:
        """One more wrong password in a row (counted in the database, so every web process sees it)."""
        with self._engine.begin() as connection:
            connection.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(failed_sign_ins=users.c.failed_sign_ins + 1, last_failed_at=now)
            )

    def clear_failures(self, user_id: int) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                update(users).where(users.c.id == user_id).values(failed_sign_ins=0, last_failed_at=None)
            )
