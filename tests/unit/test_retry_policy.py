"""The one retry rule of the pipeline: doubling delays, a cap, and a number of tries."""

from __future__ import annotations

from bridge.domain.retry_policy import RetryPolicy


def test_delays_double_from_the_first_up_to_the_cap() -> None:
    policy = RetryPolicy(first_delay=30, max_delay=300)
    assert [policy.delay(tries) for tries in range(1, 7)] == [30, 60, 120, 240, 300, 300]


def test_tries_run_out_at_the_limit_and_never_without_one() -> None:
    bounded = RetryPolicy(first_delay=1, max_delay=10, max_tries=3)
    assert [bounded.exhausted(tries) for tries in (1, 2, 3, 4)] == [False, False, True, True]
    assert not RetryPolicy(first_delay=1, max_delay=10).exhausted(10_000)
