"""The state machines as data: complete, reachable, and the same as the README's state tables."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bridge.domain.states import (
    FEED_STATES,
    FINAL_REQUEST_STATES,
    REQUEST_STATES,
    RESTARTABLE_REQUEST_STATES,
    RETRYABLE_REQUEST_STATES,
    FeedState,
    RequestState,
    Source,
    StateMachine,
    can_restart,
    restart_state,
)

README = Path(__file__).resolve().parents[2] / "README.md"


def reachable(machine: StateMachine) -> set:
    seen, frontier = {machine.initial}, [machine.initial]
    while frontier:
        for target in machine.moves[frontier.pop()]:
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    return seen


@pytest.mark.parametrize(("machine", "states"), [(REQUEST_STATES, RequestState), (FEED_STATES, FeedState)])
def test_every_state_has_its_moves_and_is_reachable(machine: StateMachine, states) -> None:
    assert machine.states == set(states)
    assert all(target in machine.states for targets in machine.moves.values() for target in targets)
    assert reachable(machine) == set(states)


def test_finished_requests_only_start_over_where_their_source_starts() -> None:
    """Final: nothing moves the request on its own. Only completed never moves again; the others only start over
    (a new cancel, an operator's retry), or are taken over by a cancel made at Amazon that must be written back."""
    assert REQUEST_STATES.final == FINAL_REQUEST_STATES
    assert {state for state in REQUEST_STATES.final if not REQUEST_STATES.moves[state]} == {RequestState.COMPLETED}
    for state in FINAL_REQUEST_STATES - {RequestState.COMPLETED, RequestState.NOT_CANCELED_IN_COMMERCE}:
        assert REQUEST_STATES.moves[state] == {RequestState.AWAITING_COMMERCE, RequestState.PENDING}
    # ... and an order left open in Commerce is written back when it was canceled at Amazon outside the bridge.
    assert REQUEST_STATES.moves[RequestState.NOT_CANCELED_IN_COMMERCE] == {
        RequestState.AWAITING_COMMERCE,
        RequestState.PENDING,
        RequestState.CANCELLED_AT_AMAZON,
    }
    assert FINAL_REQUEST_STATES - {RequestState.COMPLETED} < RESTARTABLE_REQUEST_STATES
    assert RETRYABLE_REQUEST_STATES < FINAL_REQUEST_STATES and RequestState.REJECTED not in RETRYABLE_REQUEST_STATES
    assert FEED_STATES.final == {FeedState.DONE, FeedState.ABANDONED}


def test_nothing_reaches_amazon_without_passing_commerce_s_confirmation_unless_the_bridge_started_it() -> None:
    """Every way to pending (the only way to a feed) comes from awaiting_commerce or from the pipeline after it; the
    other ways are the bridge's own cancels (an operator's, a tool's, a buyer's request the merchant acts on), which
    enter or start over at pending. A Commerce cancel always starts over at Commerce's confirmation."""
    assert REQUEST_STATES.initial == RequestState.AWAITING_COMMERCE
    assert REQUEST_STATES.entries == {
        RequestState.AWAITING_COMMERCE,
        RequestState.PENDING,
        RequestState.CANCELLED_AT_AMAZON,
    }
    assert REQUEST_STATES.sources_of(RequestState.PENDING) == {
        RequestState.AWAITING_COMMERCE,
        RequestState.IN_FEED,
        RequestState.SUBMITTED,
        *RESTARTABLE_REQUEST_STATES,
    }
    assert REQUEST_STATES.sources_of(RequestState.AWAITING_COMMERCE) == RESTARTABLE_REQUEST_STATES
    assert {source: restart_state(source) for source in Source} == {
        Source.COMMERCE: RequestState.AWAITING_COMMERCE,
        Source.AMAZON: RequestState.AWAITING_COMMERCE,
        Source.BUYER_REQUEST: RequestState.PENDING,
        Source.CONSOLE: RequestState.PENDING,
        Source.API: RequestState.PENDING,
    }
    assert not can_restart(RequestState.READY) and not can_restart(RequestState.COMPLETED)
    for state in RESTARTABLE_REQUEST_STATES:  # either start is allowed from wherever a request may start over
        assert can_restart(state)
        assert {RequestState.AWAITING_COMMERCE, RequestState.PENDING} <= REQUEST_STATES.moves[state]


def test_sources_and_allows_read_the_table() -> None:
    assert REQUEST_STATES.sources_of(RequestState.READY) == {RequestState.PENDING}
    assert REQUEST_STATES.allows(RequestState.CONFIRMING, RequestState.CONFIRMING)
    assert not REQUEST_STATES.allows(RequestState.PENDING, RequestState.COMPLETED)
    assert not REQUEST_STATES.allows(RequestState.COMPLETED, RequestState.AWAITING_COMMERCE)
    assert not REQUEST_STATES.allows(RequestState.COMPLETED, RequestState.PENDING)
    assert not FEED_STATES.allows(FeedState.PREPARING, FeedState.SUBMITTED)


def readme_table(heading: str) -> list[str]:
    """The backticked names in the first column of the first table after ``heading`` in the README."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    rows = []
    for line in section.splitlines()[1:]:
        if rows and not line.startswith("|"):
            break
        match = re.match(r"\|\s*`([a-z_]+)`", line)
        if match:
            rows.append(match.group(1))
    return rows


def test_the_readme_lists_exactly_the_request_states() -> None:
    assert readme_table("### Request states") == [state.value for state in RequestState]


def test_the_readme_lists_exactly_the_feed_states() -> None:
    assert readme_table("### Feed states") == [state.value for state in FeedState]
