"""What each of Commerce's hooks costs in trips to the database, with warm mirrors: a budget, not a timing.

A mass cancel runs its hooks one after another, so every round trip on the hook's path is paid two hundred times
while the admin waits. The statements are counted on both databases (SQLAlchemy's cursor events on the app's own
engine) and, on PostgreSQL, the round trips themselves: libpq's trace of the protocol, where every exchange ends
with the server's ReadyForQuery, so a BEGIN, COMMIT or ROLLBACK of its own counts too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from bridge.pipeline.steps.refresh_amazon_mirror import refresh_amazon_mirror
from bridge.pipeline.steps.refresh_commerce_links import refresh_commerce_links
from tests.conftest import BOTH_DATABASES, HookResponse, RunningBridge
from tests.pipeline_helpers import FAST_PIPELINE
from tests.seeds import amazon_order

pytestmark = BOTH_DATABASES


@dataclass(frozen=True)
class Budget:
    """Statements on each database; on PostgreSQL each is one round trip too (autocommit: no BEGIN or COMMIT)."""

    sqlite: int
    postgresql: int


# On PostgreSQL the before hook reads the order's request, link and mirror entry in one statement and records an
# accepted cancel in one more; the after hook is one statement. SQLite has no round trips to save: it records a
# request and its event in two statements of one transaction (it allows no INSERT inside WITH), and the after hook
# sets its commit not to wait for the disk with a PRAGMA before and after.
BUDGET = {
    "before: accepted": Budget(sqlite=3, postgresql=2),
    "before: refused (pending)": Budget(sqlite=1, postgresql=1),
    "before: a cancel under way": Budget(sqlite=1, postgresql=1),
    "before: started over": Budget(sqlite=3, postgresql=2),
    "after: canceled": Budget(sqlite=3, postgresql=1),
    "after: not canceled": Budget(sqlite=4, postgresql=1),
    "after: nothing waiting": Budget(sqlite=3, postgresql=1),
}


@dataclass
class Traffic:
    statements: int = 0
    round_trips: int | None = None  # PostgreSQL only


@contextmanager
def database_traffic(engine: Engine, trace_file: Path) -> Iterator[Callable[[], Traffic]]:
    """Count what ``engine`` sends while the block runs; the callable gives the count so far."""
    counted = Traffic()
    postgres = engine.dialect.name == "postgresql"

    def statement(*_: Any) -> None:
        counted.statements += 1

    def traced(dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection.pgconn.trace(trace.fileno())

    def untraced(dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection.pgconn.untrace()  # flushes what libpq wrote

    def so_far() -> Traffic:
        if postgres:
            counted.round_trips = trace_file.read_text().count("\tReadyForQuery")
        return counted

    with trace_file.open("w") as trace:
        listeners = [(engine, "before_cursor_execute", statement)]
        if postgres:
            listeners += [(engine, "checkout", traced), (engine, "checkin", untraced)]
        for target, name, listener in listeners:
            event.listen(target, name, listener)
        try:
            yield so_far
        finally:
            for target, name, listener in listeners:
                event.remove(target, name, listener)


@pytest.fixture
def bridge(start_bridge: Callable[..., RunningBridge], commerce, amazon) -> RunningBridge:
    """The bridge with both mirrors warm for orders 1 to 3 (the worker's rounds ran before the admin clicks)."""
    bridge = start_bridge(**FAST_PIPELINE)
    amazon_order(commerce, amazon, 1)
    amazon_order(commerce, amazon, 2)
    amazon_order(commerce, amazon, 3, status="PENDING")
    worker = bridge.worker()
    assert refresh_commerce_links(worker) == 3
    refresh_amazon_mirror(worker)
    return bridge


def test_each_hook_stays_within_its_database_budget(bridge: RunningBridge, commerce, amazon, tmp_path: Path):
    hook = bridge.hook()
    database = bridge.parts.engine.dialect.name
    hook.post_after(99, canceled=True)  # the pool's first connection: its set-up is no hook's cost
    spent: list[tuple[str, Traffic]] = []

    def measured(name: str, call: Callable[[], HookResponse]) -> dict[str, Any]:
        with database_traffic(bridge.parts.engine, tmp_path / f"{len(spent)}.trace") as traffic:
            response = call()
            spent.append((name, traffic()))
        assert response.status_code == 200, response.text
        return response.json()

    assert measured("before: accepted", lambda: hook.post({"id": "1"})) == {"op": "success"}
    assert measured("after: canceled", lambda: hook.post_after(1, canceled=True)) == {"op": "success"}
    assert measured("before: a cancel under way", lambda: hook.post({"id": "1"})) == {"op": "success"}
    assert measured("before: refused (pending)", lambda: hook.post({"id": "3"}))["op"] == "exception"
    assert measured("before: accepted", lambda: hook.post({"id": "2"})) == {"op": "success"}
    assert measured("after: not canceled", lambda: hook.post_after(2, canceled=False)) == {"op": "success"}
    assert measured("before: started over", lambda: hook.post({"id": "2"})) == {"op": "success"}
    assert measured("after: nothing waiting", lambda: hook.post_after(3, canceled=True)) == {"op": "success"}

    allowed = {name: getattr(budget, database) for name, budget in BUDGET.items()}
    over = [(name, t) for name, t in spent if max(t.statements, t.round_trips or 0) > allowed[name]]
    assert not over, f"over budget: {over}"
    # Answered from the mirrors, and what was recorded is whole: each request with its timeline.
    assert amazon.calls["getOrder"] == 0 and commerce.calls["GET /rest/V1/orders/<int:entity_id>"] == 0
    requests = {r.commerce_entity_id: r for r in bridge.cancel_requests()}
    assert {entity: r.state for entity, r in requests.items()} == {1: "awaiting_commerce", 2: "awaiting_commerce"}
    assert requests[1].next_attempt_at == 0.0  # Commerce's claim: read back at once
    timeline = bridge.parts.request_queries.timeline
    assert [e.state for e in timeline(requests[1].id)] == ["awaiting_commerce"]
    assert [e.state for e in timeline(requests[2].id)] == [
        "awaiting_commerce", "not_canceled_in_commerce", "awaiting_commerce"
    ]  # fmt: skip
