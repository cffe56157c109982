"""The one place that writes a cancel request's or a feed's state.

Every move is a single ``UPDATE ... WHERE state IN (the sources the state machine allows)``, together with
whatever else the caller pins (the lease owner, the feed a request rides in), so a move the machine does not list,
or one based on a stale read, changes nothing. ``move`` raises when fewer rows moved than were named, and its
transaction rolls back; ``move_selected`` is for claims, where moving none is a normal answer. Each move of a cancel
request also leaves an event in its timeline, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
    Insert,
    String,
    Table,
    Update,
    bindparam,
    insert,
    select,
    update,
)

from bridge.domain.states import StateMachine, TransitionRefused
from bridge.storage.tables import cancel_requests, request_events, utcnow


def move(
    connection: Connection,
    table: Table,
    machine: StateMachine,
    row_ids: Sequence[int],
    target: StrEnum,
    *,
    where: Sequence[ColumnElement[bool]] = (),
    by: str | None = None,
    **values: Any,
) -> None:
    """Move exactly these rows to ``target`` (with ``values``), or raise TransitionRefused and move none.

    ``by`` names the person or tool that made the move, for the timeline (None: the bridge itself)."""
    ids = list(row_ids)
    if not ids:
        return
    moved = move_selected(connection, table, machine, target, [table.c.id.in_(ids), *where], by=by, **values)
    if len(moved) != len(ids):
        raise refusal_of(connection, table, machine, ids, target)


def refusal_of(
    connection: Connection, table: Table, machine: StateMachine, row_ids: Sequence[int], target: StrEnum
) -> TransitionRefused:
    """What refuses a move of these rows to ``target``: where each of them stands now, and who holds it."""
    query = select(table.c.id, table.c.state, table.c.lease_owner).where(table.c.id.in_(list(row_ids)))
    return TransitionRefused(
        machine, target, {row.id: (row.state, row.lease_owner) for row in connection.execute(query)}
    )


def move_selected(
    connection: Connection,
    table: Table,
    machine: StateMachine,
    target: StrEnum,
    where: Sequence[ColumnElement[bool]],
    by: str | None = None,
    **values: Any,
) -> list[int]:
    """Move every row matching ``where`` whose state allows it to ``target``; return the ids moved."""
    now = utcnow()
    statement = guarded_update(table, machine, target, where).values(updated_at=now, **values)
    moved = sorted(connection.execute(statement).scalars().all())
    if moved and table is cancel_requests:
        record_events(connection, moved, target, now, by)
    return moved


def record_events(
    connection: Connection, request_ids: Sequence[int], target: StrEnum, at: datetime, by: str | None = None
) -> None:
    """What the timeline shows: these requests entered ``target`` at ``at``."""
    rows = [{"request_id": request_id, "state": target, "at": at, "actor": by} for request_id in request_ids]
    connection.execute(insert(request_events), rows)


def with_events(written: Insert | Update) -> Insert:
    """PostgreSQL: ``written`` (an INSERT or a guarded UPDATE of cancel requests, returning their ids) and the
    timeline events of the requests it wrote, as one statement (a data-modifying CTE), so that it is one transaction
    and one round trip even in autocommit; returns the ids written. The events' values are bound as ``event_state``,
    ``event_at`` and ``event_actor``. (SQLite allows no INSERT or UPDATE inside WITH: there, ``record_events`` in the
    same transaction.)"""
    rows = written.cte("written")
    event = select(
        rows.c.id,
        bindparam("event_state", type_=String),
        bindparam("event_at", type_=DateTime(timezone=True)),
        bindparam("event_actor", type_=String),
    )
    columns = ["request_id", "state", "at", "actor"]
    return insert(request_events).from_select(columns, event).returning(request_events.c.request_id)


def guarded_update(
    table: Table, machine: StateMachine, target: StrEnum, where: Sequence[ColumnElement[bool]]
) -> Update:
    """The UPDATE that moves the rows matching ``where`` to ``target`` only from a state the machine allows
    (returning their ids); a caller on a hot path builds it once, with bind parameters, and adds the values."""
    sources = machine.sources_of(target)
    if not sources:
        raise ValueError(f"nothing may move a {machine.name} to {target}")
    return update(table).where(*where, table.c.state.in_(sorted(sources))).values(state=target).returning(table.c.id)
