"""The sign-in throttle as a rule: free typos, then a doubling wait, capped."""

from __future__ import annotations

from itertools import pairwise

import pytest

from bridge.domain.sign_in_throttle import FREE_FAILURES, LONGEST_WAIT_SECONDS, seconds_to_wait, wait_after


@pytest.mark.parametrize("failures", range(FREE_FAILURES + 1))
def test_the_first_mistakes_cost_nothing(failures: int) -> None:
    assert wait_after(failures) == 0.0
    assert seconds_to_wait(failures, last_failed_at=1000.0, now=1000.0) == 0.0


def test_from_the_fifth_mistake_each_one_doubles_the_wait_up_to_a_cap() -> None:
    waits = [wait_after(failures) for failures in range(FREE_FAILURES + 1, FREE_FAILURES + 12)]
    assert waits[0] == 30.0 and waits[1] == 60.0 and waits[2] == 120.0
    assert all(later >= earlier for earlier, later in pairwise(waits))
    assert max(waits) == LONGEST_WAIT_SECONDS


def test_the_wait_runs_from_the_last_failure() -> None:
    assert seconds_to_wait(5, last_failed_at=1000.0, now=1010.0) == 20.0
    assert seconds_to_wait(5, last_failed_at=1000.0, now=1031.0) == 0.0
    assert seconds_to_wait(9, last_failed_at=None, now=5.0) == 0.0
