"""Where an order's cancel stands, as the console's order list filters it: every request state in exactly one place,
drawn from the request state machine itself."""

from __future__ import annotations

from bridge.domain.states import FINAL_REQUEST_STATES, STANDING_STATES, CancelStanding, RequestState


def test_every_request_state_stands_in_exactly_one_place() -> None:
    placed = [state for states in STANDING_STATES.values() for state in states]
    assert sorted(placed) == sorted(RequestState)
    assert set(STANDING_STATES) == set(CancelStanding) and STANDING_STATES[CancelStanding.NONE] == frozenset()


def test_under_way_until_final_and_only_a_completed_cancel_counts_as_canceled() -> None:
    assert STANDING_STATES[CancelStanding.UNDER_WAY] == set(RequestState) - FINAL_REQUEST_STATES
    assert STANDING_STATES[CancelStanding.COMPLETED] == {RequestState.COMPLETED}
    assert STANDING_STATES[CancelStanding.NEEDS_ATTENTION] == {
        RequestState.FAILED, RequestState.REJECTED, RequestState.NOT_CANCELED_IN_COMMERCE,
    }  # fmt: skip
