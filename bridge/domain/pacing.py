"""How the worker paces itself: how often it asks Amazon about a feed in progress, and how long it idles.

A cancel is done only when Amazon has processed its feed, so the wait between Amazon finishing and the bridge
noticing is pure delay. ``getFeed`` allows a steady 2 requests a second per seller (after a burst of 15), far more
than a few feeds need: each feed in progress is asked about on a short fixed cadence, and when more feeds are in
progress than the quota covers at that cadence, they share it evenly (each is asked about once every
feeds / rate seconds, the one waiting longest first), so the quota is used to the full and never exceeded. With
Amazon's notifications live, Amazon says when a feed is done, and polling is only the backstop.
"""

from __future__ import annotations

from bridge.domain.records import ReadyGroup

MIN_IDLE_SECONDS = 0.05  # something due that cannot move yet (a quota to refill) is not looked at in a busy loop


def poll_interval(
    *, cadence: float, backstop: float, notifications_live: bool, feeds_in_progress: int, rate: float
) -> float:
    """Seconds from one ``getFeed`` of a feed to the next.

    ``cadence`` without notifications, ``backstop`` with them; never shorter than the feed's fair share of the
    seller's quota (``rate`` requests a second shared by its ``feeds_in_progress`` feeds, this one included).
    """
    fair_share = max(1, feeds_in_progress) / rate
    return max(backstop if notifications_live else cadence, fair_share)


def send_at(
    group: ReadyGroup, *, alone: bool, gather_seconds: float, max_wait_seconds: float, max_messages: int
) -> float:
    """When a batch of ready cancels is due to go out as one feed (epoch seconds): adaptive batching.

    While cancels keep arriving (a mass cancel), they gather: the feed goes once none has joined for
    ``gather_seconds``, or the oldest has waited ``max_wait_seconds``, or at once when the batch is full. A cancel
    ``alone`` (no other of its seller and marketplace recorded within ``gather_seconds`` of it, before or since)
    goes at once: nothing suggests more are coming, and waiting would only delay it. An idle bridge thus sends a
    lone cancel at once; a busy one sends few large feeds (a mass cancel's first cancel may go alone).
    """
    if group.count >= max_messages or (alone and group.count == 1):
        return group.oldest
    return min(group.newest + gather_seconds, group.oldest + max_wait_seconds)


def idle_wait(idle_seconds: float, now: float, next_due: float | None) -> float:
    """How long a worker whose round moved nothing waits before the next one.

    Until the next moment it knows something falls due (a feed's next poll, a batch's send time, a request's
    retry), at most ``idle_seconds`` (which bounds how late it notices what it cannot foresee, such as Commerce's
    ``after`` hook), and never less than MIN_IDLE_SECONDS.
    """
    if next_due is None:
        return idle_seconds
    return min(idle_seconds, max(MIN_IDLE_SECONDS, next_due - now))
