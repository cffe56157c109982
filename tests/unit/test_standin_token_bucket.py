"""The Amazon stand-in's own token buckets (its enforcement of the published quotas), driven by a fake clock."""

from __future__ import annotations

from standins.amazon.token_bucket import TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=0.5, burst=3, clock=clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.now += 1.9
    assert not bucket.take()  # not a whole token yet
    clock.now += 0.1
    assert bucket.take()
    assert not bucket.take()


def test_refill_is_capped_at_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=10, burst=2, clock=clock)
    clock.now += 100
    assert [bucket.take() for _ in range(3)] == [True, True, False]
