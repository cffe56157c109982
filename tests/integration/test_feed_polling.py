"""Feeds followed at Amazon: getFeed on a fixed cadence, the seller's quota shared fairly when many feeds are in
progress (never a 429 at the stand-in, which enforces it), and a slow backstop while notifications are live; and
the reads around a feed that must not stall it: a batch read live when searchOrders has no call left.

The worker's clock is the test's (a WorkerContext field), so the schedule is asserted exactly, never timed.
"""

from __future__ import annotations

import time

from sqlalchemy import insert

from bridge.domain.states import FeedState
from bridge.pipeline.steps.poll_submitted_feeds import poll_submitted_feeds
from bridge.pipeline.worker import run_round
from bridge.pipeline.worker_context import WorkerContext
from bridge.storage.engine import make_engine, upgrade
from bridge.storage.feed_records import FeedRecords
from bridge.storage.tables import feeds, utcnow
from tests.conftest import BOTH_DATABASES, RunningBridge
from tests.pipeline_helpers import FAST_PIPELINE, drive
from tests.seeds import IT_STORE, US_STORE, amazon_order

# The feed-poll cadence and backstop as shipped, everything else fast.
SHIPPED_POLLING = {k: v for k, v in FAST_PIPELINE.items() if "FEED_POLL" not in k}


class Clock:
    """The worker's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = time.time() + 1.0  # past the cancels just recorded, so their batch is due

    def __call__(self) -> float:
        return self.now


def cancel_in_commerce(commerce, amazon, entity_ids, store_id: int = US_STORE) -> None:
    for entity_id in entity_ids:
        amazon_order(commerce, amazon, entity_id, store_id=store_id)
        assert commerce.cancel(entity_id) == (True, None)


def submitted(ctx: WorkerContext) -> list:
    return [feed for feed in ctx.feeds.all() if feed.state == FeedState.SUBMITTED]


def one_feed_at_amazon(bridge: RunningBridge, commerce, amazon, *, notifications_live: bool = False):
    """One cancel sent in a feed Amazon keeps processing until the test says; the worker's context, clock, feed."""
    amazon.feed_processing_delay = 3600
    cancel_in_commerce(commerce, amazon, [1])
    ctx = bridge.worker()
    ctx.clock = clock = Clock()
    ctx.notifications_live = notifications_live
    drive(ctx, lambda: len(submitted(ctx)) == 1)
    [feed] = submitted(ctx)
    return ctx, clock, feed


def test_a_feed_is_read_at_the_first_poll_after_amazon_finished_it(start_bridge, commerce, amazon):
    """Default cadence (one second), not a doubling delay: Amazon finishing is noticed within one cadence."""
    bridge = start_bridge(**SHIPPED_POLLING)
    ctx, clock, feed = one_feed_at_amazon(bridge, commerce, amazon)
    assert feed.next_poll_at == clock.now + 1.0
    polls = amazon.calls["getFeed"]

    poll_submitted_feeds(ctx)  # not due yet
    assert amazon.calls["getFeed"] == polls
    for _ in range(3):  # still processing: polled again every second, the delay does not grow
        clock.now += 1.0
        poll_submitted_feeds(ctx)
        [feed] = submitted(ctx)
        assert feed.next_poll_at == clock.now + 1.0
    assert amazon.calls["getFeed"] == polls + 3

    amazon.process_due_feeds(force=True)  # Amazon finishes it just after a poll
    clock.now += 1.0
    assert poll_submitted_feeds(ctx) == 1  # the next poll reads the report
    assert amazon.calls["getFeed"] == polls + 4 and amazon.calls["getFeedDocument"] == 1
    assert [f.state for f in ctx.feeds.all()] == [FeedState.DONE]
    drive(ctx, lambda: commerce.orders[1]["state"] == "complete")
    assert sum(amazon.throttled.values()) == 0


def test_many_feeds_in_progress_share_the_getfeed_quota_fairly_and_never_hit_429(start_bridge, commerce, amazon):
    """Twelve feeds polled at a cadence far beyond the quota: each gets its turn in order, the stand-in (which
    enforces the quota and counts every 429) never refuses one. A faster quota than Amazon's published one (as
    Amazon grants some applications) lets the test go round the feeds in seconds; the rule is the same."""
    amazon.quotas["getFeed"] = (20.0, 5)
    amazon.feed_processing_delay = 3600
    bridge = start_bridge(**FAST_PIPELINE, BRIDGE_FEED_MAX_MESSAGES="1", SPAPI_QUOTAS="getFeed=20:5")
    cancel_in_commerce(commerce, amazon, range(1, 7), store_id=US_STORE)
    cancel_in_commerce(commerce, amazon, range(7, 13), store_id=IT_STORE)
    ctx = bridge.worker()
    drive(ctx, lambda: len(submitted(ctx)) == 12, timeout=60)

    before = {feed.id: feed.poll_count for feed in submitted(ctx)}
    calls = amazon.calls["getFeed"]
    drive(ctx, lambda: amazon.calls["getFeed"] >= calls + 3 * 12, timeout=60)  # three rounds of the feeds
    polled = [feed.poll_count - before[feed.id] for feed in submitted(ctx)]
    assert len(polled) == 12 and min(polled) >= 2 and max(polled) <= 4  # no feed starved, none ahead of its turn
    assert amazon.throttled["getFeed"] == 0 and sum(amazon.throttled.values()) == 0

    amazon.process_due_feeds(force=True)
    drive(ctx, lambda: all(commerce.orders[e]["state"] == "complete" for e in range(1, 13)), timeout=120)
    assert sum(amazon.throttled.values()) == 0


def test_with_notifications_live_a_feed_is_polled_only_as_a_backstop(start_bridge, commerce, amazon):
    """Amazon's FEED_PROCESSING_FINISHED says when a feed is done: polling drops to every five minutes."""
    bridge = start_bridge(**SHIPPED_POLLING)
    ctx, clock, feed = one_feed_at_amazon(bridge, commerce, amazon, notifications_live=True)
    assert feed.next_poll_at == clock.now + 300.0
    polls = amazon.calls["getFeed"]

    clock.now += 299.0
    poll_submitted_feeds(ctx)
    assert amazon.calls["getFeed"] == polls
    clock.now += 1.0
    poll_submitted_feeds(ctx)
    assert amazon.calls["getFeed"] == polls + 1
    [feed] = submitted(ctx)
    assert feed.next_poll_at == clock.now + 300.0

    ctx.notifications_live = False  # the queue stopped answering: back to the cadence at the next poll
    clock.now += 300.0
    poll_submitted_feeds(ctx)
    [feed] = submitted(ctx)
    assert feed.next_poll_at == clock.now + 1.0


@BOTH_DATABASES
def test_a_poll_claims_one_feed_at_a_time_the_one_waiting_longest_first(database_url):
    """On PostgreSQL a claim's sub-select could run again for each row updated and lease a second feed nobody then
    polled until its lease ran out; the claim picks its rows once."""
    engine = make_engine(database_url)
    upgrade(engine)
    now = time.time()
    waiting = {"f-1": now - 5, "f-2": now - 100, "f-3": now - 50, "f-4": now + 30}  # f-4 is not due yet
    with engine.begin() as connection:
        for amazon_feed_id, next_poll_at in waiting.items():
            connection.execute(
                insert(feeds).values(
                    store_code="us", seller_id="A2SELLERUS", marketplace_id="ATVPDKIKX0DER", state="submitted",
                    message_count=1, amazon_feed_id=amazon_feed_id, poll_count=0, next_poll_at=next_poll_at,
                    created_at=utcnow(), updated_at=utcnow(),
                )
            )  # fmt: skip
    records = FeedRecords(engine)
    claimed = [records.claim_next_poll("worker", now, 120.0, set()) for _ in range(4)]
    assert [feed.amazon_feed_id if feed else None for feed in claimed] == ["f-2", "f-3", "f-1", None]
    leased = [feed.amazon_feed_id for feed in records.all() if feed.lease_owner == "worker"]
    assert sorted(leased) == ["f-1", "f-2", "f-3"]
    assert records.claim_next_poll("other", now, 120.0, {"A2SELLERUS"}) is None  # a seller out of quota waits
    engine.dispose()


def test_a_batch_is_read_live_when_searchorders_has_no_call_left(start_bridge, commerce, amazon):
    """A refresh of a big batch's changes takes several searchOrders pages, one every three minutes once the burst is
    spent: rather than wait for them, the check before sending and the confirmation read the orders live, within
    getOrder's quota."""
    amazon.quotas["searchOrders"] = (0.0056, 1)
    bridge = start_bridge(**FAST_PIPELINE, SPAPI_QUOTAS="searchOrders=0.0056:1")
    ctx = bridge.worker()
    run_round(ctx)  # the order mirror's first refresh takes the one call
    cancel_in_commerce(commerce, amazon, range(1, 9))  # more than are read live without trying the mirror
    drive(ctx, lambda: all(commerce.orders[e]["state"] == "complete" for e in range(1, 9)), timeout=60)
    assert amazon.calls["getOrder"] >= 16  # each order read before sending and to confirm
    assert amazon.calls["createFeed"] == 1 and sum(amazon.throttled.values()) == 0
