"""The bridge's shared quota buckets, in a real database (SQLite and PostgreSQL), with a controlled clock."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from bridge.errors import QuotaExhausted
from bridge.storage.engine import make_engine, upgrade
from bridge.storage.rate_limiter import RateLimiter
from tests.conftest import BOTH_DATABASES

pytestmark = BOTH_DATABASES  # the buckets are shared rows updated atomically: both databases must hold them


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def engine(database_url: str):
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def test_burst_then_rate(engine) -> None:
    clock = FakeClock()
    limiter = RateLimiter(engine, {"op": (0.5, 3)}, clock=clock, latency_allowance=0)
    assert [limiter.reserve("S", "op", 0) for _ in range(3)] == [0, 0, 0]
    with pytest.raises(QuotaExhausted):
        limiter.reserve("S", "op", 1.9)
    assert limiter.reserve("S", "op", 2.0) == pytest.approx(2.0)  # the next slot is ours, in 2 s
    with pytest.raises(QuotaExhausted):
        limiter.reserve("S", "op", 3.9)  # the one after is 4 s away
    clock.now += 4
    assert limiter.reserve("S", "op", 0) == 0


def test_refill_is_capped_at_burst_and_buckets_are_per_seller_and_operation(engine) -> None:
    clock = FakeClock()
    limiter = RateLimiter(engine, {"a": (10, 2), "b": (10, 2)}, clock=clock, latency_allowance=0)
    clock.now += 100
    limiter.reserve("S1", "a", 0)
    limiter.reserve("S1", "a", 0)
    with pytest.raises(QuotaExhausted):
        limiter.reserve("S1", "a", 0.05)
    assert limiter.reserve("S2", "a", 0) == 0
    assert limiter.reserve("S1", "b", 0) == 0


def test_drain_after_a_429(engine) -> None:
    clock = FakeClock()
    limiter = RateLimiter(engine, {"op": (1, 5)}, clock=clock, latency_allowance=0)
    limiter.drain("S", "op")
    limiter.reserve("S", "op", 0)  # creates the full bucket
    limiter.drain("S", "op")
    with pytest.raises(QuotaExhausted):
        limiter.reserve("S", "op", 0.5)
    clock.now += 1
    assert limiter.reserve("S", "op", 0) == 0


def test_latency_allowance_keeps_a_reserve_in_the_bucket(engine) -> None:
    clock = FakeClock()
    limiter = RateLimiter(engine, {"op": (2.0, 3)}, clock=clock, latency_allowance=0.25)  # a reserve of 0.5 token
    assert [limiter.reserve("S", "op", 0) for _ in range(2)] == [0, 0]
    with pytest.raises(QuotaExhausted):
        limiter.reserve("S", "op", 0.2)  # the third token may only be used 0.25 s from now
    assert limiter.reserve("S", "op", 0.25) == pytest.approx(0.25)


def test_limiters_in_separate_processes_share_one_bucket(engine) -> None:
    """Two limiter objects (as in two processes) on one database never hand out more than the burst together."""
    clock = FakeClock()
    first = RateLimiter(engine, {"op": (0.001, 30)}, clock=clock, latency_allowance=0)
    second = RateLimiter(engine, {"op": (0.001, 30)}, clock=clock, latency_allowance=0)

    def take(limiter: RateLimiter) -> bool:
        try:
            limiter.reserve("S", "op", 0)
            return True
        except QuotaExhausted:
            return False

    with ThreadPoolExecutor(max_workers=8) as pool:
        granted = list(pool.map(take, [first, second] * 40))
    assert sum(granted) == 30
