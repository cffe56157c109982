"""Console accounts: the stored password hash, role and language (sign-in failures: ``sign_in_failures``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select, update

from bridge.domain.records import User, as_utc
from bridge.storage.tables import users, utcnow
from bridge.storage.upsert import insert_if_absent


def user_of(row: Any) -> User:
    return User(
        row.id, row.name, row.password_hash, row.role, row.locale, bool(row.disabled), as_utc(row.created_at),
        row.session_version,
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
        return user_of(row) if row else None

    def all(self) -> list[User]:
        with self._engine.connect() as connection:
            return [user_of(row) for row in connection.execute(select(users).order_by(users.c.name))]

    def set_disabled(self, name: str, disabled: bool) -> bool:
        """False when there is no such user. Every session of the account ends (enabling it again revives none)."""
        return self._update(users.c.name == name, disabled=disabled, session_version=users.c.session_version + 1)

    def set_password_hash(self, name: str, password_hash: str) -> bool:
        """The same password, hashed anew (stronger defaults): its sessions stay. False when there is no such user."""
        return self._update(users.c.name == name, password_hash=password_hash)

    def change_password_hash(self, name: str, password_hash: str) -> bool:
        """A new password (the old one may have leaked): every session of the account ends. False when there is no
        such user."""
        return self._update(
            users.c.name == name, password_hash=password_hash, session_version=users.c.session_version + 1
        )

    def end_sessions(self, user_id: int) -> None:
        """Signing out ends every session of the account, a copy of its cookie taken anywhere included."""
        self._update(users.c.id == user_id, session_version=users.c.session_version + 1)

    def _update(self, condition: Any, **values: Any) -> bool:
        with self._engine.begin() as connection:
            return connection.execute(update(users).where(condition).values(**values)).rowcount == 1
