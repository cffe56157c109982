"""How the worker paces itself: feeds followed on a fixed cadence within the getFeed quota, a slow backstop while
notifications are live, batches sent when due, and idle waits that end when something falls due."""

from __future__ import annotations

import pytest

from bridge.domain.pacing import MIN_IDLE_SECONDS, idle_wait, poll_interval, send_at
from bridge.domain.records import ReadyGroup

GET_FEED_RATE = 2.0  # Amazon's published getFeed rate per seller


def interval(feeds: int, *, live: bool = False, cadence: float = 1.0, rate: float = GET_FEED_RATE) -> float:
    return poll_interval(cadence=cadence, backstop=300.0, notifications_live=live, feeds_in_progress=feeds, rate=rate)


def test_a_feed_in_progress_is_polled_on_the_fixed_cadence_not_a_growing_delay() -> None:
    assert [interval(1) for _ in range(5)] == [1.0] * 5
    assert interval(2) == 1.0  # two feeds at one a second each: exactly the quota


@pytest.mark.parametrize(("feeds", "expected"), [(3, 1.5), (10, 5.0), (40, 20.0), (1000, 500.0)])
def test_more_feeds_than_the_quota_covers_share_it_evenly(feeds: int, expected: float) -> None:
    """Each feed gets its fair share of the seller's quota: together they poll at exactly its rate, never more."""
    assert interval(feeds) == expected
    assert feeds / interval(feeds) <= GET_FEED_RATE


def test_a_rate_amazon_granted_or_announced_is_what_is_shared() -> None:
    assert interval(10, rate=5.0) == 2.0
    assert interval(10, rate=20.0) == 1.0  # the cadence is the floor


def test_with_notifications_live_polling_is_only_the_backstop() -> None:
    assert interval(1, live=True) == 300.0
    assert interval(1000, live=True) == 500.0  # still within the quota


def test_no_feed_counted_yet_is_polled_as_one() -> None:
    """Right after createFeed the feed may not be counted as in progress yet."""
    assert interval(0) == 1.0


def group(count: int, oldest: float, newest: float) -> ReadyGroup:
    return ReadyGroup(("us", "A2SELLERUS", "ATVPDKIKX0DER"), count, oldest, newest)


def test_a_batch_goes_once_none_joined_for_the_gather_time_or_the_oldest_waited_long_enough() -> None:
    rule = {"alone": False, "gather_seconds": 2.0, "max_wait_seconds": 60.0, "max_messages": 5000}
    assert send_at(group(1, oldest=100.0, newest=100.0), **rule) == 102.0
    assert send_at(group(300, oldest=100.0, newest=130.0), **rule) == 132.0  # a mass cancel still coming in
    assert send_at(group(900, oldest=100.0, newest=159.5), **rule) == 160.0  # ... but not for ever
    assert send_at(group(5000, oldest=100.0, newest=101.0), **rule) == 100.0  # full: at once


def test_a_cancel_alone_goes_at_once_while_one_of_a_mass_cancel_gathers() -> None:
    rule = {"gather_seconds": 2.0, "max_wait_seconds": 60.0, "max_messages": 5000}
    assert send_at(group(1, oldest=100.0, newest=100.0), alone=True, **rule) == 100.0
    assert send_at(group(1, oldest=100.0, newest=100.0), alone=False, **rule) == 102.0  # others came with it
    assert send_at(group(3, oldest=100.0, newest=101.0), alone=True, **rule) == 103.0  # a batch is never alone


def test_an_idle_worker_waits_until_the_next_thing_falls_due_at_most_its_idle_time() -> None:
    assert idle_wait(2.0, now=1000.0, next_due=None) == 2.0
    assert idle_wait(2.0, now=1000.0, next_due=1000.4) == pytest.approx(0.4)
    assert idle_wait(2.0, now=1000.0, next_due=1060.0) == 2.0
    assert idle_wait(2.0, now=1000.0, next_due=990.0) == MIN_IDLE_SECONDS  # due but not moving: no busy loop
