"""The order-status mirror and adaptive batching: fewer Amazon calls, same decisions."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from bridge.domain.amazon_order import FulfillmentStatus
from bridge.pipeline.amazon_view import backfill_store, refresh_store
from bridge.pipeline.steps.refresh_amazon_mirror import refresh_amazon_mirror
from bridge.pipeline.steps.send_ready_feeds import send_ready_feeds
from standins.amazon import StandInOrder
from tests.pipeline_helpers import FAST_PIPELINE, drive
from tests.seeds import US_STORE, amazon_order


@pytest.fixture
def bridge(start_bridge):
    return start_bridge(**FAST_PIPELINE)


@pytest.fixture
def ctx(bridge):
    return bridge.worker()


def with_pipeline(ctx, **changes):
    """The same worker with other pipeline settings."""
    settings = dataclasses.replace(ctx.settings, pipeline=dataclasses.replace(ctx.pipeline, **changes))
    return dataclasses.replace(ctx, settings=settings)


def us_store(ctx):
    return ctx.stores.for_commerce_store(US_STORE)


def test_the_webhook_answers_from_a_fresh_mirror_without_calling_amazon(bridge, ctx, commerce, amazon):
    ids = {e: amazon_order(commerce, amazon, e, status=s) for e, s in ((1, "UNSHIPPED"), (2, "PENDING"))}
    assert refresh_amazon_mirror(ctx) == 2  # both stores with order import on
    assert amazon.calls["searchOrders"] == 4  # per store: its refresh and the backfill's first window
    assert bridge.hook().post({"id": "1"}).json() == {"op": "success"}
    refused = bridge.hook().post({"id": "2"}).json()
    assert refused["op"] == "exception" and ids[2] in refused["message"] and "Pending" in refused["message"]
    assert amazon.calls["getOrder"] == 0
    [recorded] = bridge.cancel_requests()
    assert recorded.amazon_item_ids == tuple(amazon.orders[ids[1]].item_ids)


def test_orders_the_mirror_does_not_hold_are_read_live(bridge, ctx, commerce, amazon):
    refresh_amazon_mirror(ctx)
    amazon_order(commerce, amazon, 3)  # placed after the backfill
    assert bridge.hook().post({"id": "3"}).json() == {"op": "success"}
    assert amazon.calls["getOrder"] == 1


def test_a_refresh_brings_status_changes_in(bridge, ctx, commerce, amazon):
    amazon_id = amazon_order(commerce, amazon, 4)
    refresh_amazon_mirror(ctx)
    amazon.set_status(amazon_id, "SHIPPED")
    assert refresh_store(ctx, us_store(ctx))
    refused = bridge.hook().post({"id": "4"}).json()
    assert refused["op"] == "exception" and "already shipped" in refused["message"]
    assert amazon.calls["getOrder"] == 0


def test_a_stale_mirror_is_not_trusted(start_bridge, commerce, amazon):
    bridge = start_bridge(**FAST_PIPELINE, BRIDGE_MIRROR_MAX_AGE_SECONDS="0.001")
    ctx = bridge.worker()
    amazon_id = amazon_order(commerce, amazon, 5)
    refresh_amazon_mirror(ctx)
    amazon.set_status(amazon_id, "SHIPPED")  # the mirror still says UNSHIPPED, but it is too old to count
    refused = bridge.hook().post({"id": "5"}).json()
    assert refused["op"] == "exception" and "already shipped" in refused["message"]
    assert amazon.calls["getOrder"] == 1


STATUSES = [status.value for status in FulfillmentStatus]  # all seven


def backfilled(ctx) -> None:
    """The worker's first rounds of mirror refreshes, until both stores' backfills are done."""
    for _ in range(10):  # the backfill goes back a window a round, each twice as long as the last
        refresh_amazon_mirror(ctx)
        if all(ctx.mirror.cursor(code).backfilled_at is not None for code in ("us", "it")):
            return
    raise AssertionError("the backfill did not end")


def test_the_mirror_keeps_every_order_of_the_store_whatever_its_status_and_fulfiller(ctx, commerce, amazon):
    ids = [
        amazon_order(commerce, amazon, 300 + n, status=status, fulfilled_by=fulfilled_by)
        for n, (status, fulfilled_by) in enumerate((s, f) for s in STATUSES for f in ("MERCHANT", "AMAZON"))
    ]
    old = amazon_order(commerce, amazon, 399, status="SHIPPED")
    amazon.orders[old].created = amazon.orders[old].updated = datetime.now(UTC) - timedelta(days=20)
    too_old = amazon_order(commerce, amazon, 398, status="SHIPPED")
    amazon.orders[too_old].created = amazon.orders[too_old].updated = datetime.now(UTC) - timedelta(days=40)
    backfilled(ctx)
    mirrored = ctx.mirror.get_many([*ids, old, too_old], us_store(ctx).marketplace_id)
    assert set(mirrored) == {*ids, old}  # created within BRIDGE_MIRROR_BACKFILL_DAYS (30)
    assert {(o.status, o.fulfilled_by) for o in mirrored.values()} >= {
        (s, f) for s in STATUSES for f in ("MERCHANT", "AMAZON")
    }
    calls = amazon.calls["searchOrders"]
    refresh_amazon_mirror(ctx)  # done: no more backfill calls, and the refresh is not due yet
    assert amazon.calls["searchOrders"] == calls


def test_a_backfill_window_with_more_orders_than_calls_to_spare_is_recorded_and_halved(ctx, commerce, amazon):
    for n in range(250):  # created in the backfill's first window (the last day), 3 pages of searchOrders
        amazon.add_order(StandInOrder(f"113-{n:07d}-0000001", "A2SELLERUS", "ATVPDKIKX0DER", status="SHIPPED"))
    assert refresh_store(ctx, us_store(ctx))
    before = ctx.mirror.cursor("us").updated_after
    while ctx.limiter.available("A2SELLERUS", "searchOrders") >= 13:  # the other processes' calls: 12 left
        ctx.limiter.reserve("A2SELLERUS", "searchOrders", max_wait=0)
    assert not backfill_store(ctx, us_store(ctx))  # two pages read (ten calls stay in the bucket), not the third
    assert len(ctx.mirror.get_many([f"113-{n:07d}-0000001" for n in range(250)], "ATVPDKIKX0DER")) == 200
    assert ctx.mirror.backfill_window["us"] == 86400 / 2  # the next window is half as long
    assert ctx.mirror.cursor("us").backfill_before in (None, before)  # and starts where this one did
    assert amazon.calls["searchOrders"] == 3


def test_a_refresh_with_more_pages_of_changes_than_calls_keeps_them_and_waits_for_enough_calls(ctx, amazon):
    changed_at = datetime.now(UTC) - timedelta(minutes=3)  # after where a new store's refreshes start (5 min back)
    ids = [f"114-{n:07d}-0000001" for n in range(250)]  # three pages of changes
    for amazon_id in ids:
        amazon.add_order(StandInOrder(amazon_id, "A2SELLERUS", "ATVPDKIKX0DER", status="SHIPPED"))
        amazon.orders[amazon_id].created = amazon.orders[amazon_id].updated = changed_at
    while ctx.limiter.available("A2SELLERUS", "searchOrders") >= 3:  # two calls left
        ctx.limiter.reserve("A2SELLERUS", "searchOrders", max_wait=0)
    calls = amazon.calls["searchOrders"]
    assert not refresh_store(ctx, us_store(ctx))
    assert amazon.calls["searchOrders"] == calls + 2  # the two calls there were, no wait for a third
    assert len(ctx.mirror.get_many(ids, "ATVPDKIKX0DER")) == 200  # what they read is kept ...
    cursor = ctx.mirror.cursor("us")
    assert cursor.complete_as_of is None  # ... but the cursor did not move, so no change is skipped
    # The next refresh waits for a call per page and one more, rather than spend each call as it comes back.
    assert ctx.mirror.refresh_pages_wanted["us"] == 3
    assert not refresh_store(ctx, us_store(ctx))
    assert amazon.calls["searchOrders"] == calls + 2 and ctx.mirror.cursor("us") == cursor


def test_an_order_amazon_fulfills_is_refused_from_the_mirror_without_asking_amazon(bridge, ctx, commerce, amazon):
    amazon_id = amazon_order(commerce, amazon, 7, fulfilled_by="AMAZON")
    refresh_amazon_mirror(ctx)
    refused = bridge.hook().post({"id": "7"}).json()
    assert refused["op"] == "exception" and amazon_id in refused["message"] and "Seller Central" in refused["message"]
    assert "fulfilled by Amazon" in refused["message"]
    assert amazon.calls["getOrder"] == 0 and bridge.cancel_requests() == []


def test_a_mass_cancel_is_checked_and_confirmed_with_a_few_searches_not_one_read_per_order(
    bridge, ctx, commerce, amazon
):
    ids = [amazon_order(commerce, amazon, e) for e in range(100, 160)]
    backfilled(ctx)
    searches = amazon.calls["searchOrders"]
    for entity_id in range(100, 160):
        assert commerce.cancel(entity_id) == (True, None)
    drive(ctx, lambda: {r.state for r in bridge.cancel_requests()} == {"completed"})
    assert amazon.calls["getOrder"] == 0
    assert amazon.calls["createFeed"] == 1
    assert amazon.calls["searchOrders"] - searches <= 6
    assert all(amazon.cancel_messages[a] == 1 for a in ids)
    assert sum(amazon.throttled.values()) == 0


def test_cancels_gather_while_they_keep_coming_then_go_as_one_feed(bridge, ctx, commerce, amazon):
    """A cancel alone goes at once (nothing says more are coming); those that follow it gather into one feed."""
    gathering = with_pipeline(ctx, feed_gather_seconds=3600, feed_max_wait_seconds=3600)
    amazon_order(commerce, amazon, 199)
    assert commerce.cancel(199) == (True, None)
    drive(gathering, lambda: amazon.calls["createFeed"] == 1)
    for entity_id in range(200, 205):
        amazon_order(commerce, amazon, entity_id)
        assert commerce.cancel(entity_id) == (True, None)
        drive(gathering, lambda: all(r.state == "ready" for r in bridge.cancel_requests()[1:]))
        assert send_ready_feeds(gathering) == 0  # the last cancel just joined: keep gathering
    assert amazon.calls["createFeed"] == 1
    drive(ctx, lambda: {r.state for r in bridge.cancel_requests()} == {"completed"})  # gathering time is over
    assert amazon.calls["createFeed"] == 2


def test_a_batch_waits_no_longer_than_the_maximum(bridge, ctx, commerce, amazon):
    impatient = with_pipeline(ctx, feed_gather_seconds=3600, feed_max_wait_seconds=0)
    amazon_order(commerce, amazon, 210)
    assert commerce.cancel(210) == (True, None)
    drive(impatient, lambda: amazon.calls["createFeed"] == 1)
