"""The order-status mirror and adaptive batching: fewer Amazon calls, same decisions."""

from __future__ import annotations

import dataclasses

import pytest

from bridge.pipeline.amazon_view import refresh_store
from bridge.pipeline.steps.refresh_amazon_mirror import refresh_amazon_mirror
from bridge.pipeline.steps.send_ready_feeds import send_ready_feeds
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
    assert amazon.calls["searchOrders"] == 2
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


def test_a_backfill_forgets_orders_that_are_no_longer_open(bridge, ctx, commerce, amazon):
    amazon_id = amazon_order(commerce, amazon, 6)
    refresh_amazon_mirror(ctx)
    amazon.set_status(amazon_id, "SHIPPED")
    ctx.mirror.replace_store("us", [], seen_at=ctx.clock())  # what a new backfill does with what it did not see
    assert ctx.mirror.get_many([amazon_id], us_store(ctx).marketplace_id) == {}


def test_a_mass_cancel_is_checked_and_confirmed_with_a_few_searches_not_one_read_per_order(
    bridge, ctx, commerce, amazon
):
    ids = [amazon_order(commerce, amazon, e) for e in range(100, 160)]
    refresh_amazon_mirror(ctx)
    for entity_id in range(100, 160):
        assert commerce.cancel(entity_id) == (True, None)
    drive(ctx, lambda: {r.state for r in bridge.cancel_requests()} == {"completed"})
    assert amazon.calls["getOrder"] == 0
    assert amazon.calls["createFeed"] == 1
    assert amazon.calls["searchOrders"] <= 6
    assert all(amazon.cancel_messages[a] == 1 for a in ids)
    assert sum(amazon.throttled.values()) == 0


def test_cancels_gather_while_they_keep_coming_then_go_as_one_feed(bridge, ctx, commerce, amazon):
    gathering = with_pipeline(ctx, feed_gather_seconds=3600, feed_max_wait_seconds=3600)
    for entity_id in range(200, 205):
        amazon_order(commerce, amazon, entity_id)
        assert commerce.cancel(entity_id) == (True, None)
        drive(gathering, lambda: all(r.state == "ready" for r in bridge.cancel_requests()))
        assert send_ready_feeds(gathering) == 0  # the last cancel just joined: keep gathering
    assert amazon.calls["createFeed"] == 0
    drive(ctx, lambda: {r.state for r in bridge.cancel_requests()} == {"completed"})  # gathering time is over
    assert amazon.calls["createFeed"] == 1


def test_a_batch_waits_no_longer_than_the_maximum(bridge, ctx, commerce, amazon):
    impatient = with_pipeline(ctx, feed_gather_seconds=3600, feed_max_wait_seconds=0)
    amazon_order(commerce, amazon, 210)
    assert commerce.cancel(210) == (True, None)
    drive(impatient, lambda: amazon.calls["createFeed"] == 1)
