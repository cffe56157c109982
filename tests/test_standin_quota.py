"""The stand-in's token buckets, driven by a fake clock."""

from __future__ import annotations

import pytest

from bridge.errors import QuotaExhausted
from bridge.standins.quota import TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=0.5, burst=3, clock=clock)
    assert [bucket.reserve(0) for _ in range(3)] == [0, 0, 0]
    with pytest.raises(QuotaExhausted):
        bucket.reserve(1.9)
    assert bucket.reserve(2.0) == pytest.approx(2.0)  # a reservation: the next slot is ours in 2 s
    with pytest.raises(QuotaExhausted):
        bucket.reserve(3.9)  # the slot after that is 4 s away
    clock.now += 4
    assert bucket.reserve(0) == 0


def test_refill_is_capped_at_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=10, burst=2, clock=clock)
    clock.now += 100
    bucket.reserve(0)
    bucket.reserve(0)
    with pytest.raises(QuotaExhausted):
        bucket.reserve(0.05)


def test_drain_after_a_429() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=1, burst=5, clock=clock)
    bucket.drain()
    with pytest.raises(QuotaExhausted):
        bucket.reserve(0.5)
    clock.now += 1
    assert bucket.reserve(0) == 0
