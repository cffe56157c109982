"""What the API answered to each ``Idempotency-Key``, so that a client's retry gets the same answer, not a
second cancel.

The key is claimed before the call does anything: a concurrent retry finds it claimed and is told to wait; a call
that failed before answering gives its key up, so a retry can run. A claim whose call never answered at all (its
process died) is taken over once it is older than any call can take, so the key is not stuck: the retry then finds
the cancel already recorded, if it was, and is told so. Keys are kept a day.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, delete, select, update

from bridge.storage.tables import idempotency_keys as table
from bridge.storage.upsert import insert_if_absent

KEEP_SECONDS = 24 * 3600.0
ABANDONED_CLAIM_SECONDS = 120.0  # a call gives up long before this (its budget is 10 s)


@dataclass(frozen=True)
class StoredAnswer:
    fingerprint: str  # of the request body that was first sent with the key
    status_code: int | None  # None: the first call is still being answered
    body: str | None


class IdempotencyKeys:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def claim(self, token_name: str, key: str, fingerprint: str, now: float) -> StoredAnswer | None:
        """Claim the key for a new call (None), or return what was stored for it first."""
        with self._engine.begin() as connection:
            connection.execute(delete(table).where(table.c.created_at < now - KEEP_SECONDS))
            values = {"token_name": token_name, "key": key, "fingerprint": fingerprint, "created_at": now}
            if insert_if_absent(connection, table, values):
                return None
            this_key = (table.c.token_name == token_name, table.c.key == key)
            row = connection.execute(select(table).where(*this_key)).one()
            if row.status_code is None and row.created_at < now - ABANDONED_CLAIM_SECONDS:
                taken = connection.execute(
                    update(table)
                    .where(*this_key, table.c.status_code.is_(None), table.c.created_at == row.created_at)
                    .values(fingerprint=fingerprint, created_at=now)
                ).rowcount
                if taken:
                    return None
        return StoredAnswer(row.fingerprint, row.status_code, row.response_body)

    def store(self, token_name: str, key: str, status_code: int, body: str) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                update(table)
                .where(table.c.token_name == token_name, table.c.key == key)
                .values(status_code=status_code, response_body=body)
            )

    def give_up(self, token_name: str, key: str) -> None:
        """The call failed before it answered: a retry with the same key runs afresh."""
        with self._engine.begin() as connection:
            connection.execute(
                delete(table).where(table.c.token_name == token_name, table.c.key == key, table.c.status_code.is_(None))
            )
