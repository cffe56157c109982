"""API tokens, kept as their SHA-256 only: a stolen database gives no working token.

A token is 32 random bytes, so a plain hash (not a slow password hash) is enough and keeps every API call fast.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select, update

from bridge.domain.records import as_utc
from bridge.storage.tables import api_tokens, utcnow
from bridge.storage.upsert import insert_if_absent


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _maybe_utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else as_utc(moment)


@dataclass(frozen=True)
class ApiToken:
    name: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class ApiTokens:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, name: str, token: str) -> bool:
        """Keep the token's hash under ``name``; False when the name is taken (revoked tokens keep theirs)."""
        with self._engine.begin() as connection:
            return insert_if_absent(
                connection, api_tokens, {"name": name, "token_hash": token_hash(token), "created_at": utcnow()}
            )

    def holder_of(self, token: str) -> str | None:
        """The name of the live token ``token`` is, noting its use; None when it is unknown or revoked."""
        with self._engine.begin() as connection:
            name = connection.execute(
                update(api_tokens)
                .where(api_tokens.c.token_hash == token_hash(token), api_tokens.c.revoked_at.is_(None))
                .values(last_used_at=utcnow())
                .returning(api_tokens.c.name)
            ).scalar_one_or_none()
        return name

    def revoke(self, name: str) -> bool:
        """False when no live token has that name."""
        with self._engine.begin() as connection:
            return (
                connection.execute(
                    update(api_tokens)
                    .where(api_tokens.c.name == name, api_tokens.c.revoked_at.is_(None))
                    .values(revoked_at=utcnow())
                ).rowcount
                == 1
            )

    def all(self) -> list[ApiToken]:
        query = select(api_tokens).order_by(api_tokens.c.name)
        with self._engine.connect() as connection:
            return [
                ApiToken(row.name, as_utc(row.created_at), _maybe_utc(row.revoked_at), _maybe_utc(row.last_used_at))
                for row in connection.execute(query)
            ]
