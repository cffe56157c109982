"""Feed records: one OrderAcknowledgement feed per seller-and-marketplace batch, and the requests riding in it
(taken into a feed, submitted and settled with it, in the same transactions).

Each step that talks to Amazon is bracketed by a transaction that records what happened before and after it, so a
crash at any point leaves a state from which the next worker can tell what Amazon may already have received.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, case, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from bridge.domain.records import CancelRequest, FeedRecord, RequestOutcome, as_utc
from bridge.domain.states import FEED_STATES, REQUEST_STATES, FeedState, RequestState, TransitionRefused
from bridge.storage.cancel_requests import request_of
from bridge.storage.leases import claim_rows, ids_to_claim, lease_is_free
from bridge.storage.tables import cancel_requests as requests_table
from bridge.storage.tables import feeds as table
from bridge.storage.tables import utcnow
from bridge.storage.transitions import move, move_selected


def feed_of(row: Any) -> FeedRecord:
    values = {f.name: getattr(row, f.name) for f in fields(FeedRecord)}
    return FeedRecord(**{**values, "created_at": as_utc(row.created_at), "updated_at": as_utc(row.updated_at)})


class FeedRecords:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def open_batch(
        self, owner: str, group: tuple[str, str, str], now: float, lease: float, max_messages: int
    ) -> tuple[FeedRecord, list[CancelRequest]] | None:
        """Start a feed holding every ready request of this (store, seller, marketplace), numbered 1..n.

        Nothing has gone to Amazon yet: a crash from here until the feed is created only delays the requests.
        """
        store_code, seller_id, marketplace_id = group
        ready = [
            requests_table.c.state == RequestState.READY,
            requests_table.c.store_code == store_code,
            requests_table.c.seller_id == seller_id,
            requests_table.c.marketplace_id == marketplace_id,
            requests_table.c.next_attempt_at <= now,
            lease_is_free(requests_table, now),
        ]
        with self._engine.begin() as connection:
            feed_id = connection.execute(
                insert(table)
                .values(
                    store_code=store_code, seller_id=seller_id, marketplace_id=marketplace_id,
                    state=FEED_STATES.initial, message_count=0, poll_count=0, lease_owner=owner,
                    lease_expires_at=now + lease, created_at=utcnow(), updated_at=utcnow(),
                )
                .returning(table.c.id)
            ).scalar_one()  # fmt: skip
            claimed = _take_ready_into_feed(connection, feed_id, owner, ready, max_messages, now + lease)
            if not claimed:
                connection.execute(delete(table).where(table.c.id == feed_id))
                return None
            connection.execute(update(table).where(table.c.id == feed_id).values(message_count=len(claimed)))
            feed = feed_of(connection.execute(select(table).where(table.c.id == feed_id)).one())
            requests = _in_feed(connection, feed_id)
        return feed, requests

    def mark_uploaded(self, feed: FeedRecord, owner: str, document_id: str, now: float) -> bool:
        """The document is at Amazon; from here on createFeed may have happened even if we never hear back.

        False if the lease was lost (the feed is another worker's now).
        """
        with self._engine.begin() as connection:
            return _move_feed(
                connection, feed, owner, FeedState.UPLOADED, feed_document_id=document_id, uploaded_at=now
            )

    def mark_submitted(self, feed: FeedRecord, owner: str, amazon_feed_id: str, next_poll_at: float) -> bool:
        """Amazon's feed id and the requests' move to SUBMITTED, in one transaction.

        False if the lease was lost, or if another record already follows that Amazon feed (two workers
        recovering at once may both pick the same unknown feed; only one may have it).
        """
        try:
            with self._engine.begin() as connection:
                if not _move_feed(
                    connection, feed, owner, FeedState.SUBMITTED, amazon_feed_id=amazon_feed_id,
                    next_poll_at=next_poll_at, lease_owner=None, lease_expires_at=None,
                ):  # fmt: skip
                    return False
                _submit_feed_requests(connection, feed.id)
        except IntegrityError:
            return False
        return True

    def finish(
        self,
        feed: FeedRecord,
        owner: str,
        state: FeedState,
        outcomes: dict[int, RequestOutcome],
        **feed_values: Any,
    ) -> bool:
        """Close the feed and move each of its requests on, all in one transaction; False if the lease was lost."""
        with self._engine.begin() as connection:
            if not _move_feed(connection, feed, owner, state, lease_owner=None, lease_expires_at=None, **feed_values):
                return False
            _settle_feed_requests(connection, feed.id, outcomes)
        return True

    def settle_some(self, feed: FeedRecord, outcomes: dict[int, RequestOutcome]) -> None:
        """Move some requests out of a feed that is still being prepared (the feed stays as it is)."""
        with self._engine.begin() as connection:
            _settle_feed_requests(connection, feed.id, outcomes)

    def hold(self, feed: FeedRecord, owner: str, until: float) -> None:
        """Keep the feed untouched until then (its lease simply runs longer)."""
        self._update_leased(feed, owner, lease_expires_at=until)

    def claim(self, owner: str, states: set[FeedState], now: float, lease: float, limit: int) -> list[FeedRecord]:
        """Lease feeds in these states: SUBMITTED ones when their next poll is due, the others when abandoned."""
        due = [table.c.state.in_(states), lease_is_free(table, now)]
        if FeedState.SUBMITTED in states:
            due.append((table.c.next_poll_at.is_(None)) | (table.c.next_poll_at <= now))
        return [feed_of(row) for row in claim_rows(self._engine, table, due, owner, now, lease, limit)]

    def claim_next_poll(self, owner: str, now: float, lease: float, skip_sellers: set[str]) -> FeedRecord | None:
        """Lease the submitted feed whose poll has been due longest, of a seller not in ``skip_sellers``.

        Longest overdue first is what shares a seller's getFeed quota fairly when its feeds want more than it
        gives: each feed polled goes to the back of the line.
        """
        due = [
            table.c.state == FeedState.SUBMITTED,
            lease_is_free(table, now),
            table.c.next_poll_at.is_(None) | (table.c.next_poll_at <= now),
            table.c.seller_id.not_in(sorted(skip_sellers)),
        ]
        order = (func.coalesce(table.c.next_poll_at, 0.0),)
        rows = claim_rows(self._engine, table, due, owner, now, lease, 1, order_by=order)
        return feed_of(rows[0]) if rows else None

    def in_progress(self, seller_id: str) -> int:
        """The seller's feeds at Amazon not yet processed (as far as the bridge knows): they share its getFeed."""
        query = select(func.count()).where(table.c.state == FeedState.SUBMITTED, table.c.seller_id == seller_id)
        with self._engine.connect() as connection:
            return connection.execute(query).scalar_one()

    def next_poll_at(self, now: float) -> float | None:
        """When the next submitted feed no worker holds is due to be polled (None: there is none)."""
        query = select(func.min(func.coalesce(table.c.next_poll_at, 0.0))).where(
            table.c.state == FeedState.SUBMITTED, lease_is_free(table, now)
        )
        with self._engine.connect() as connection:
            return connection.execute(query).scalar_one()

    def reschedule_poll(self, feed: FeedRecord, owner: str, processing_status: str, next_poll_at: float) -> None:
        self._update_leased(
            feed, owner, processing_status=processing_status, poll_count=feed.poll_count + 1,
            next_poll_at=next_poll_at, lease_owner=None, lease_expires_at=None,
        )  # fmt: skip

    def release(self, feed: FeedRecord, owner: str, next_poll_at: float | None = None) -> None:
        values: dict[str, Any] = {"lease_owner": None, "lease_expires_at": None}
        if next_poll_at is not None:
            values["next_poll_at"] = next_poll_at
        self._update_leased(feed, owner, **values)

    def poll_now(self, amazon_feed_id: str, seller_id: str | None, now: float) -> bool:
        """Amazon said the feed finished (its notification): its next getFeed is due now, not at its back-off.

        False when no submitted feed of the bridge's is that Amazon feed (another application's, or one already
        read). A worker polling it right now keeps its lease; this only moves the due time.
        """
        query = update(table).where(table.c.amazon_feed_id == amazon_feed_id, table.c.state == FeedState.SUBMITTED)
        if seller_id is not None:
            query = query.where(table.c.seller_id == seller_id)
        already_due = table.c.next_poll_at.is_not(None) & (table.c.next_poll_at <= now)
        with self._engine.begin() as connection:
            moved = connection.execute(query.values(next_poll_at=case((already_due, table.c.next_poll_at), else_=now)))
        return moved.rowcount > 0

    def known_amazon_feed_ids(self, seller_id: str) -> set[str]:
        with self._engine.connect() as connection:
            return set(
                connection.execute(
                    select(table.c.amazon_feed_id).where(
                        table.c.seller_id == seller_id, table.c.amazon_feed_id.is_not(None)
                    )
                ).scalars()
            )

    def get(self, feed_id: int) -> FeedRecord | None:
        with self._engine.connect() as connection:
            row = connection.execute(select(table).where(table.c.id == feed_id)).first()
        return feed_of(row) if row else None

    def search(self, state: str | None, limit: int) -> tuple[list[FeedRecord], int]:
        """The newest ``limit`` feeds (in ``state``, if given), newest first, and how many there are in all."""
        where = [table.c.state == state] if state is not None else []
        with self._engine.connect() as connection:
            total = connection.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
            rows = connection.execute(select(table).where(*where).order_by(table.c.id.desc()).limit(limit))
            return [feed_of(row) for row in rows], total

    def requests_in(self, feed_id: int) -> list[CancelRequest]:
        """The requests riding in the feed, in message order."""
        with self._engine.connect() as connection:
            return _in_feed(connection, feed_id)

    def all(self) -> list[FeedRecord]:
        with self._engine.connect() as connection:
            return [feed_of(row) for row in connection.execute(select(table).order_by(table.c.id))]

    def _update_leased(self, feed: FeedRecord, owner: str, **values: Any) -> bool:
        with self._engine.begin() as connection:
            return (
                connection.execute(
                    update(table)
                    .where(table.c.id == feed.id, table.c.lease_owner == owner)
                    .values(updated_at=utcnow(), **values)
                ).rowcount
                == 1
            )


def _move_feed(connection: Connection, feed: FeedRecord, owner: str, target: FeedState, **values: Any) -> bool:
    """Move a feed this worker holds; False (nothing changed) when its lease was lost to another worker."""
    try:
        move(connection, table, FEED_STATES, [feed.id], target, where=[table.c.lease_owner == owner], **values)
    except TransitionRefused:
        return False
    return True


# --- the requests of a feed, moved inside the feed record's transactions ----------------------------------------


def _in_feed(connection: Connection, feed_id: int) -> list[CancelRequest]:
    query = select(requests_table).where(requests_table.c.feed_id == feed_id).order_by(requests_table.c.message_id)
    return [request_of(row) for row in connection.execute(query)]


def _take_ready_into_feed(
    connection: Connection, feed_id: int, owner: str, ready: list[ColumnElement[bool]], limit: int, lease_until: float
) -> list[int]:
    """Lease up to ``limit`` ready requests matching ``ready`` into the feed, numbered 1..n; their ids, in order."""
    taken = move_selected(
        connection, requests_table, REQUEST_STATES, RequestState.IN_FEED,
        [requests_table.c.id.in_(ids_to_claim(requests_table, ready, limit).scalar_subquery()), *ready],
        feed_id=feed_id, lease_owner=owner, lease_expires_at=lease_until,
    )  # fmt: skip
    for message_id, request_id in enumerate(taken, start=1):
        numbered = update(requests_table).where(requests_table.c.id == request_id).values(message_id=message_id)
        connection.execute(numbered)
    return taken


def _submit_feed_requests(connection: Connection, feed_id: int) -> None:
    """Amazon has the feed: every request still in it is submitted, and has used one more feed attempt."""
    move_selected(
        connection, requests_table, REQUEST_STATES, RequestState.SUBMITTED, [requests_table.c.feed_id == feed_id],
        attempts=requests_table.c.attempts + 1, lease_owner=None, lease_expires_at=None,
    )  # fmt: skip


def _settle_feed_requests(connection: Connection, feed_id: int, outcomes: dict[int, RequestOutcome]) -> None:
    """Move each named request of the feed on (all of them, or TransitionRefused and the transaction rolls back)."""
    for request_id, outcome in outcomes.items():
        move(
            connection, requests_table, REQUEST_STATES, [request_id], outcome.state,
            where=[requests_table.c.feed_id == feed_id], lease_owner=None, lease_expires_at=None, **outcome.values,
        )  # fmt: skip
