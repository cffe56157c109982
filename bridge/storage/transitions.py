"""The one place that writes a cancel request's or a feed's state.

Every move is a single ``UPDATE ... WHERE state IN (the sources the state machine allows)``, together with
whatever else the caller pins (the lease owner, the feed a request rides in), so a move the machine does not list,
or one based on a stale read, changes nothing. ``move`` raises when fewer rows moved than were named, and its
transaction rolls back; ``move_selected`` is for claims, where moving none is a normal answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, Update, select, update

from bridge.domain.states import StateMachine
from bridge.errors import BridgeError
from bridge.storage.tables import utcnow


class TransitionRefused(BridgeError):
    """A row was not where the move needed it: another worker moved it, its lease was lost, or the move is not
    allowed by the state machine. Nothing was changed."""

    def __init__(self, machine: StateMachine, target: StrEnum, found: dict[int, tuple[str, str | None]]) -> None:
        self.found = found
        described = ", ".join(
            f"#{row_id} is {state} (lease {owner or 'free'})" for row_id, (state, owner) in found.items()
        )
        super().__init__(f"{machine.name} move to {target} refused: {described or 'no such row'}")


def move(
    connection: Connection,
    table: Table,
    machine: StateMachine,
    row_ids: Sequence[int],
    target: StrEnum,
    *,
    where: Sequence[ColumnElement[bool]] = (),
    **values: Any,
) -> None:
    """Move exactly these rows to ``target`` (with ``values``), or raise TransitionRefused and move none."""
    ids = list(row_ids)
    if not ids:
        return
    moved = move_selected(connection, table, machine, target, [table.c.id.in_(ids), *where], **values)
    if len(moved) != len(ids):
        rows = connection.execute(
            select(table.c.id, table.c.state, table.c.lease_owner).where(table.c.id.in_(ids))
        ).all()
        raise TransitionRefused(machine, target, {row.id: (row.state, row.lease_owner) for row in rows})


def move_selected(
    connection: Connection,
    table: Table,
    machine: StateMachine,
    target: StrEnum,
    where: Sequence[ColumnElement[bool]],
    **values: Any,
) -> list[int]:
    """Move every row matching ``where`` whose state allows it to ``target``; return the ids moved."""
    statement = guarded_update(table, machine, target, where).values(updated_at=utcnow(), **values)
    return sorted(connection.execute(statement).scalars().all())


def guarded_update(
    table: Table, machine: StateMachine, target: StrEnum, where: Sequence[ColumnElement[bool]]
) -> Update:
    """The UPDATE that moves the rows matching ``where`` to ``target`` only from a state the machine allows
    (returning their ids); a caller on a hot path builds it once, with bind parameters, and adds the values."""
    sources = machine.sources_of(target)
    if not sources:
        raise ValueError(f"nothing may move a {machine.name} to {target}")
    return update(table).where(*where, table.c.state.in_(sorted(sources))).values(state=target).returning(table.c.id)
