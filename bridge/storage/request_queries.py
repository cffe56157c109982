"""Reads of the cancel requests for people: the console, the API, the CLI and the metrics."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Engine, func, select, union

from bridge.domain.records import CancelRequest, RequestSearch, TimelineEvent, as_utc
from bridge.domain.states import REQUEST_STATES
from bridge.storage.cancel_requests import request_of
from bridge.storage.tables import cancel_requests as table
from bridge.storage.tables import epoch, feeds, mirror_cursors, order_mirror, request_events


def _conditions(search: RequestSearch) -> list[ColumnElement[bool]]:
    wanted = {
        table.c.state: search.state,
        table.c.store_code: search.store_code,
        table.c.increment_id: search.increment_id,
        table.c.amazon_order_id: search.amazon_order_id,
    }
    where = [column == value for column, value in wanted.items() if value is not None]
    if search.since is not None:
        where.append(table.c.updated_at >= search.since)
    return where


class RequestQueries:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def timeline(self, request_id: int) -> list[TimelineEvent]:
        """Every state the request entered, oldest first; a state entered again at once (another look at an order
        that does not read CANCELLED yet) shows once, when it was first entered."""
        query = (
            select(request_events.c.state, request_events.c.at, request_events.c.actor)
            .where(request_events.c.request_id == request_id)
            .order_by(request_events.c.id)
        )
        events: list[TimelineEvent] = []
        with self._engine.connect() as connection:
            for row in connection.execute(query):
                if not events or events[-1].state != row.state or row.actor:
                    events.append(TimelineEvent(row.state, as_utc(row.at), row.actor))
        return events

    def for_amazon_orders(self, amazon_order_ids: list[str]) -> dict[str, CancelRequest]:
        """The newest request of each of these Amazon orders (one Amazon order may have two Commerce orders)."""
        found: dict[str, CancelRequest] = {}
        query = select(table).where(table.c.amazon_order_id.in_(amazon_order_ids)).order_by(table.c.id)
        with self._engine.connect() as connection:
            for row in connection.execute(query):
                found[row.amazon_order_id] = request_of(row)
        return found

    def counts_by_store_and_state(self) -> dict[str, dict[str, int]]:
        query = select(table.c.store_code, table.c.state, func.count()).group_by(table.c.store_code, table.c.state)
        counts: dict[str, dict[str, int]] = {}
        with self._engine.connect() as connection:
            for store_code, state, count in connection.execute(query):
                counts.setdefault(store_code, {})[state] = count
        return counts

    def counts_by_state(self) -> dict[str, int]:
        with self._engine.connect() as connection:
            rows = connection.execute(select(table.c.state, func.count()).group_by(table.c.state)).all()
        return {row[0]: row[1] for row in rows}

    def oldest_open_since(self) -> float | None:
        """When the oldest request not yet in a final state was recorded (epoch seconds); None if none is open."""
        query = select(func.min(table.c.created_at)).where(table.c.state.not_in(sorted(REQUEST_STATES.final)))
        with self._engine.connect() as connection:
            oldest = connection.execute(query).scalar_one()
        return None if oldest is None else epoch(oldest)

    def search(self, found: RequestSearch, limit: int) -> tuple[list[CancelRequest], int]:
        """The newest ``limit`` requests matching the search, newest first, and how many match in all."""
        where = _conditions(found)
        with self._engine.connect() as connection:
            total = connection.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
            rows = connection.execute(select(table).where(*where).order_by(table.c.id.desc()).limit(limit))
            return [request_of(row) for row in rows], total

    def store_codes(self) -> frozenset[str]:
        """Every store code the bridge's records name (requests, feeds, the Amazon mirror): a store that left the
        stores file keeps its history, and the CLI knows the stores without reading that file."""
        named_in = (table, feeds, order_mirror, mirror_cursors)
        query = union(*(select(records.c.store_code) for records in named_in))
        with self._engine.connect() as connection:
            return frozenset(connection.execute(query).scalars())

    def all(self, state: str | None = None, limit: int | None = None) -> list[CancelRequest]:
        query = select(table).order_by(table.c.id)
        if state is not None:
            query = query.where(table.c.state == state)
        if limit is not None:
            query = query.limit(limit)
        with self._engine.connect() as connection:
            return [request_of(row) for row in connection.execute(query)]
