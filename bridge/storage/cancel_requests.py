"""Durable cancel requests, as the hooks, the intake and the pipeline write them.

Every change of a request's state goes through ``bridge.storage.transitions``: the repository's ``move`` for a
request a worker holds; the requests of a feed move inside the feed record's transactions (``feed_records.py``).
Reads for people (the console, the API, the CLI) are in ``request_queries.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from functools import cache
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    BigInteger,
    Engine,
    Row,
    Select,
    String,
    Table,
    and_,
    bindparam,
    case,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql

from bridge.domain.records import CancelRequest, NewCancelRequest, OrderLink, ReadyGroup, as_utc
from bridge.domain.states import (
    REQUEST_STATES,
    SENDS_THE_AMAZON_CANCEL,
    RequestState,
    TransitionRefused,
    can_retry,
    restart_state,
)
from bridge.domain.stores import Store
from bridge.storage.engine import advisory_write, commit_without_waiting, one_statement
from bridge.storage.leases import claim_rows, lease_is_free
from bridge.storage.order_links import link_of
from bridge.storage.order_mirror import MirrorLookup, order_of
from bridge.storage.tables import cancel_requests as table
from bridge.storage.tables import epoch, mirror_cursors, order_links, order_mirror, utcnow
from bridge.storage.transitions import guarded_update, move, record_events, refusal_of, with_events
from bridge.storage.upsert import insert_id_if_absent


def request_of(row: Any) -> CancelRequest:
    values = {f.name: getattr(row, f.name) for f in fields(CancelRequest)}
    values["amazon_item_ids"] = tuple(json.loads(values["amazon_item_ids"] or "[]"))
    for moment in ("created_at", "updated_at", "completed_at"):
        if values[moment] is not None:
            values[moment] = as_utc(values[moment])
    return CancelRequest(**values)


# What starting over clears: the attempt budget and everything the last attempt left behind.
_FRESH_ATTEMPT: dict[str, Any] = {
    "attempts": 0, "confirm_checks": 0, "feed_id": None, "message_id": None, "amazon_result_code": None,
    "amazon_result_description": None, "last_error": None, "completed_at": None, "lease_owner": None,
    "lease_expires_at": None,
}  # fmt: skip


def _columns(request: NewCancelRequest) -> dict[str, Any]:
    values = {f.name: getattr(request, f.name) for f in fields(NewCancelRequest)}
    values["amazon_item_ids"] = json.dumps(list(request.amazon_item_ids))
    return values


# The statements of the hooks' hot path, built once (SQLAlchemy then compiles each once too).
_FOR_COMMERCE_ORDER = select(table).where(table.c.commerce_entity_id == bindparam("entity_id"))
_WAITING = [table.c.commerce_entity_id == bindparam("entity_id"), table.c.state == RequestState.AWAITING_COMMERCE]
_RELEASED = {"lease_owner": None, "lease_expires_at": None, "updated_at": bindparam("now")}
# Commerce's after hook claims a cancel: the waiting request is read back at once. A claim is not a state: the
# request stays waiting until the worker sees the order canceled.
_READ_BACK_NOW = update(table).where(*_WAITING).values(next_attempt_at=0.0).returning(table.c.id)
_NOT_CANCELED = guarded_update(table, REQUEST_STATES, RequestState.NOT_CANCELED_IN_COMMERCE, _WAITING).values(
    last_error=bindparam("refusal"), **_RELEASED
)
# On PostgreSQL each hook write is one statement in autocommit (one round trip): the after hook's two commit without
# waiting for the disk, as advisory_write does; a new request goes in with its first event, or not at all.
_READ_BACK_NOW_PG = _READ_BACK_NOW.where(commit_without_waiting())
_NOT_CANCELED_PG = with_events(_NOT_CANCELED.where(commit_without_waiting()))
_RECORDED = [*(f.name for f in fields(NewCancelRequest)), "state", "next_attempt_at", "created_at", "updated_at"]
_RECORD_PG = with_events(
    postgresql.insert(table)
    .values({name: bindparam(name) for name in _RECORDED})
    .on_conflict_do_nothing()
    .returning(table.c.id)
)


@dataclass(frozen=True)
class BeforeHookView:
    """What the before hook needs of the bridge's records about one Commerce order, read in one statement."""

    request: CancelRequest | None
    link: OrderLink | None  # None: not in the link mirror yet
    mirrored: MirrorLookup | None  # the mirror's entry for the link's store (None: no link, or no store of it)


@cache
def _before_hook_view(stores: tuple[tuple[int, str, str], ...]) -> Select:
    """The order's request, its link and, for the link's store (``stores``: each Commerce store id with its store
    code and marketplace, the stores file in SQL), the mirror's entry and how complete that store's mirror is."""
    asked = select(bindparam("entity_id", type_=BigInteger).label("entity_id")).subquery("asked")
    store_id = order_links.c.commerce_store_id
    nowhere = literal(None, String)
    code = case({sid: code for sid, code, _ in stores}, value=store_id) if stores else nowhere
    marketplace = case({sid: marketplace for sid, _, marketplace in stores}, value=store_id) if stores else nowhere
    same_order = and_(
        order_mirror.c.amazon_order_id == order_links.c.amazon_order_id, order_mirror.c.marketplace_id == marketplace
    )
    return (
        select(table, order_links, code.label("store_asked"), marketplace.label("marketplace_asked"))
        .add_columns(mirror_cursors.c.complete_as_of, order_mirror)
        .select_from(asked)
        .outerjoin(table, table.c.commerce_entity_id == asked.c.entity_id)
        .outerjoin(order_links, order_links.c.commerce_entity_id == asked.c.entity_id)
        .outerjoin(mirror_cursors, mirror_cursors.c.store_code == code)
        .outerjoin(order_mirror, same_order)
    )


def _part(row: Row[Any], of: Table) -> Any:
    """The columns of one table out of a joined row, by name."""
    return SimpleNamespace(**{column.name: row._mapping[column] for column in of.c})


def _view_of(row: Row[Any]) -> BeforeHookView:
    request = request_of(_part(row, table)) if row._mapping[table.c.id] is not None else None
    link = link_of(_part(row, order_links)) if row._mapping[order_links.c.commerce_entity_id] is not None else None
    if link is None or link.amazon_order_id is None or row.store_asked is None:
        return BeforeHookView(request, link, None)
    mirrored = _part(row, order_mirror)
    order = order_of(mirrored) if mirrored.amazon_order_id is not None else None
    complete_as_of = row._mapping[mirror_cursors.c.complete_as_of]
    lookup = MirrorLookup(row.store_asked, row.marketplace_asked, link.amazon_order_id, complete_as_of, order)
    return BeforeHookView(request, link, lookup)


class CancelRequests:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._postgres = engine.dialect.name == "postgresql"

    def record(
        self,
        request: NewCancelRequest,
        confirm_after: float = 0.0,
        entry: RequestState = RequestState.AWAITING_COMMERCE,
    ) -> bool:
        """Store the request once per Commerce order; False when one was recorded first (a concurrent call).

        A Commerce cancel waits for Commerce to confirm it (the worker reads the order back itself ``confirm_after``
        seconds on); the bridge's own and Amazon's cancels enter where the state machine lets them.
        """
        if entry not in REQUEST_STATES.entries:
            raise ValueError(f"a cancel request cannot start at {entry}")
        now = utcnow()
        values = {**_columns(request), "state": entry, "created_at": now, "updated_at": now}
        values["next_attempt_at"] = now.timestamp() + confirm_after
        if self._postgres:  # one statement: the request with its first event, or (recorded first) neither
            event = {"event_state": entry, "event_at": now, "event_actor": request.actor}
            with one_statement(self._engine) as connection:
                return connection.execute(_RECORD_PG, {**values, **event}).first() is not None
        with self._engine.begin() as connection:
            request_id = insert_id_if_absent(connection, table, values)
            if request_id is not None:
                record_events(connection, [request_id], entry, now, request.actor)
        return request_id is not None

    def record_amazon_cancel(self, request: NewCancelRequest, restart_of: CancelRequest | None) -> bool:
        """A cancel made at Amazon outside the bridge, for the write-back: a new request, or one that had ended
        unsent (Commerce never canceled) taken over. False when another worker recorded it first."""
        if restart_of is None:
            return self.record(request, entry=RequestState.CANCELLED_AT_AMAZON)
        try:
            with self._engine.begin() as connection:
                move(
                    connection, table, REQUEST_STATES, [restart_of.id], RequestState.CANCELLED_AT_AMAZON,
                    where=[table.c.state == restart_of.state], **_columns(request), **_FRESH_ATTEMPT,
                    next_attempt_at=0.0,
                )  # fmt: skip
        except TransitionRefused:
            return False
        return True

    def start_over(
        self, request: CancelRequest, decided: NewCancelRequest, confirm_after: float, by: str | None = None
    ) -> None:
        """A new cancel of an order whose request ended without a cancel (or an operator's retry): the request
        starts again where a cancel of its new source starts, with what was just decided and a fresh attempt budget.

        TransitionRefused when it moved meanwhile (a concurrent call started it over first, or it went through
        other states and came back to this one while the caller was deciding).
        """
        target, actor = restart_state(decided.source), by or decided.actor
        where = [table.c.state == request.state, table.c.updated_at == request.updated_at]
        values = {**_columns(decided), **_FRESH_ATTEMPT, "next_attempt_at": utcnow().timestamp() + confirm_after}
        if self._postgres:  # one statement: the move and its event
            now = utcnow()
            moved = guarded_update(table, REQUEST_STATES, target, [table.c.id == request.id, *where])
            event = {"event_state": target, "event_at": now, "event_actor": actor}
            with one_statement(self._engine) as connection:
                if connection.execute(with_events(moved.values(updated_at=now, **values)), event).first() is None:
                    raise refusal_of(connection, table, REQUEST_STATES, [request.id], target)
            return
        with self._engine.begin() as connection:
            move(connection, table, REQUEST_STATES, [request.id], target, where=where, by=actor, **values)

    def read_back_now(self, commerce_entity_id: int) -> bool:
        """Commerce's after hook says it canceled: the worker reads the order back on its next round instead of
        waiting for its own look. The hook's word alone moves nothing (its body has no nonce: a replayed or forged
        claim must not send a cancel). False if no request waits for this order."""
        if self._postgres:
            with one_statement(self._engine) as connection:
                return bool(connection.execute(_READ_BACK_NOW_PG, {"entity_id": commerce_entity_id}).all())
        with advisory_write(self._engine) as connection:
            return bool(connection.execute(_READ_BACK_NOW, {"entity_id": commerce_entity_id}).all())

    def not_canceled_in_commerce(self, commerce_entity_id: int, refusal: str) -> bool:
        """Commerce's after hook says its cancel did not happen (``canCancel()`` refused): the waiting request ends
        with ``refusal``, and nothing goes to Amazon. Leases do not matter here: whoever else holds the request finds
        it moved. False if none waited."""
        now = utcnow()
        # Committed without waiting for the disk: the worker reads the order back where this is lost.
        if self._postgres:  # one statement: the move with its event
            event = {"event_state": RequestState.NOT_CANCELED_IN_COMMERCE, "event_at": now, "event_actor": None}
            with one_statement(self._engine) as connection:
                moved = connection.execute(
                    _NOT_CANCELED_PG, {"entity_id": commerce_entity_id, "now": now, "refusal": refusal, **event}
                )
                return bool(moved.all())
        with advisory_write(self._engine) as connection:
            moved = connection.execute(_NOT_CANCELED, {"entity_id": commerce_entity_id, "now": now, "refusal": refusal})
            moved_ids = [row.id for row in moved]
            if moved_ids:
                record_events(connection, moved_ids, RequestState.NOT_CANCELED_IN_COMMERCE, now)
        return bool(moved_ids)

    def before_hook_view(self, commerce_entity_id: int, stores: Iterable[Store]) -> BeforeHookView:
        """The order's request, its link and the mirror's entry for it, in one statement (one round trip)."""
        by_store = tuple(sorted((sid, s.code, s.marketplace_id) for s in stores for sid in s.commerce_store_ids))
        with one_statement(self._engine) as connection:
            row = connection.execute(_before_hook_view(by_store), {"entity_id": commerce_entity_id}).one()
        return _view_of(row)

    def for_commerce_order(self, commerce_entity_id: int) -> CancelRequest | None:
        with self._engine.connect() as connection:
            row = connection.execute(_FOR_COMMERCE_ORDER, {"entity_id": commerce_entity_id}).first()
        return request_of(row) if row else None

    def get(self, request_id: int) -> CancelRequest | None:
        with self._engine.connect() as connection:
            row = connection.execute(select(table).where(table.c.id == request_id)).first()
        return request_of(row) if row else None

    def claim(self, owner: str, states: set[RequestState], now: float, lease: float, limit: int) -> list[CancelRequest]:
        """Lease up to ``limit`` due requests in these states to ``owner``, atomically (one statement)."""
        due = [table.c.state.in_(states), table.c.next_attempt_at <= now, lease_is_free(table, now)]
        return [request_of(row) for row in claim_rows(self._engine, table, due, owner, now, lease, limit)]

    def move(self, request: CancelRequest, owner: str, state: RequestState, **values: Any) -> None:
        """Move a request this worker holds on, and release it.

        Raises TransitionRefused, changing nothing, when the lease was lost (another worker has the request now)
        or the state machine does not allow the move from where the request stands.
        """
        with self._engine.begin() as connection:
            move(
                connection, table, REQUEST_STATES, [request.id], state, where=[table.c.lease_owner == owner],
                lease_owner=None, lease_expires_at=None, **values,
            )  # fmt: skip

    def release_all(self, requests: list[CancelRequest], owner: str, retry_at: float) -> None:
        """Give these requests back untouched, last error included, to be tried again at ``retry_at``: one statement
        for a whole batch (a thousand confirmations waiting for Amazon's answers must not take a round each)."""
        if not requests:
            return
        with self._engine.begin() as connection:
            connection.execute(
                update(table)
                .where(table.c.id.in_([request.id for request in requests]), table.c.lease_owner == owner)
                .values(lease_owner=None, lease_expires_at=None, next_attempt_at=retry_at)
            )

    def release(self, request: CancelRequest, owner: str, retry_at: float, error: str) -> None:
        """Give the request back untouched, to be tried again at ``retry_at`` (a transient fault)."""
        with self._engine.begin() as connection:
            connection.execute(
                update(table)
                .where(table.c.id == request.id, table.c.lease_owner == owner)
                .values(lease_owner=None, lease_expires_at=None, next_attempt_at=retry_at, last_error=error[:2000])
            )

    def retry(self, request_id: int, by: str | None = None) -> CancelRequest | None:
        """An operator's deliberate retry of a failed request, or of one whose Commerce cancel was not seen, with a
        fresh attempt budget: a Commerce cancel starts over from waiting for Commerce (its cancel is checked again
        before anything goes to Amazon), one the bridge started from pending (the whole rule is applied again before
        sending). None if it cannot be retried."""
        request = self.get(request_id)
        if request is None or not can_retry(request.state):
            return None
        try:
            self.start_over(request, request, confirm_after=0.0, by=by)  # the worker looks at it at once
        except TransitionRefused:
            return None
        return self.get(request_id)

    def next_attempt_at(self, states: set[RequestState], now: float) -> float | None:
        """When the first request in these states that no worker holds falls due (None: there is none)."""
        query = select(func.min(table.c.next_attempt_at)).where(
            table.c.state.in_(sorted(states)), lease_is_free(table, now)
        )
        with self._engine.connect() as connection:
            return connection.execute(query).scalar_one()

    def arrivals(self, key: tuple[str, str, str], since: float) -> int:
        """Requests of this (store, seller, marketplace) recorded since then, whatever became of them."""
        store_code, seller_id, marketplace_id = key
        query = select(func.count()).where(
            table.c.store_code == store_code,
            table.c.seller_id == seller_id,
            table.c.marketplace_id == marketplace_id,
            table.c.created_at >= datetime.fromtimestamp(since, UTC),
        )
        with self._engine.connect() as connection:
            return connection.execute(query).scalar_one()

    def ready_groups(self, now: float) -> list[ReadyGroup]:
        """Every batch of requests waiting for a feed, per (store, seller, marketplace).

        ``newest`` also counts requests still being checked: while a mass cancel goes on, webhooks keep adding
        to the group even if the pre-send check lets them through in bursts.
        """
        ready = table.c.state == RequestState.READY
        key = (table.c.store_code, table.c.seller_id, table.c.marketplace_id)
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(
                    *key,
                    func.count(case((ready, 1))).label("count"),
                    func.min(case((ready, table.c.created_at))).label("oldest"),
                    func.max(table.c.created_at).label("newest"),
                )
                .where(
                    table.c.state.in_((RequestState.PENDING, RequestState.READY)),
                    table.c.next_attempt_at <= now,
                    lease_is_free(table, now) | (table.c.state == RequestState.PENDING),
                )
                .group_by(*key)
            ).all()
        return [
            ReadyGroup(
                (row.store_code, row.seller_id, row.marketplace_id), row.count, epoch(row.oldest), epoch(row.newest)
            )
            for row in rows
            if row.count
        ]

    def amazon_orders_being_canceled(self, amazon_order_ids: set[str], besides: set[int]) -> set[str]:
        """Which of these Amazon orders a request other than ``besides`` sends, has sent or has confirmed."""
        query = (
            select(table.c.amazon_order_id)
            .distinct()
            .where(
                table.c.amazon_order_id.in_(sorted(amazon_order_ids)),
                table.c.id.not_in(sorted(besides)),
                table.c.state.in_(sorted(SENDS_THE_AMAZON_CANCEL)),
            )
        )
        with self._engine.connect() as connection:
            return set(connection.execute(query).scalars())
