"""Commerce and Amazon stay true to each other: the link mirror, cancels made at Amazon outside the bridge, buyers'
requests to cancel, and the disagreements an operator must see. Real HTTP to the stand-ins, the worker's own steps.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bridge.pipeline.amazon_view import refresh_store
from bridge.pipeline.steps.refresh_amazon_mirror import refresh_amazon_mirror
from bridge.pipeline.steps.refresh_commerce_links import PAGE_SIZE, refresh_commerce_links
from bridge.pipeline.worker import run_round
from bridge.storage.order_links import LINK_CURSOR
from tests.pipeline_helpers import FAST_PIPELINE, drive
from tests.seeds import IT_STORE, amazon_order

GET_ORDER = "GET /rest/V1/orders/<int:entity_id>"
SEARCH = "GET /rest/V1/orders"


@pytest.fixture
def start(start_bridge):
    def start_with(**env: str):
        bridge = start_bridge(**FAST_PIPELINE, **env)
        return bridge, bridge.worker()

    return start_with


def warm_mirrors(ctx) -> None:
    """The worker's first rounds: Commerce links backfilled, both Amazon stores' mirrors backfilled."""
    refresh_commerce_links(ctx)
    assert refresh_amazon_mirror(ctx) == 2


def catch_up(ctx, *stores) -> None:
    """The next scheduled refreshes, brought forward: every change made so far is in the mirrors."""
    refresh_commerce_links(ctx)
    for store in stores:
        assert refresh_store(ctx, ctx.stores.by_code(store))


def comments(commerce, entity_id: int) -> list[str]:
    return [history["comment"] for history in commerce.orders[entity_id]["status_histories"]]


def test_with_warm_mirrors_the_hook_decides_without_any_outbound_call(start, commerce, amazon):
    bridge, ctx = start()
    amazon_order(commerce, amazon, 1)
    commerce.add_order(2, payment_method="checkmo")
    warm_mirrors(ctx)
    calls = dict(commerce.calls), dict(amazon.calls)
    assert bridge.hook().post({"id": "1"}).json() == {"op": "success"}
    assert bridge.hook().post({"id": "2"}).json() == {"op": "success"}  # not Amazon: known from the link mirror too
    assert (dict(commerce.calls), dict(amazon.calls)) == calls
    assert [r.commerce_entity_id for r in bridge.cancel_requests()] == [1]


def test_the_payment_methods_that_mark_amazon_orders_are_configurable(start, commerce, amazon):
    bridge, ctx = start(BRIDGE_AMAZON_PAYMENT_METHODS="m2epro_amazon, amazonpayment")
    amazon_order(commerce, amazon, 3)
    commerce.orders[3]["payment"]["method"] = "m2epro_amazon"
    warm_mirrors(ctx)
    assert bridge.hook().post({"id": "3"}).json() == {"op": "success"}
    assert [r.amazon_order_id for r in bridge.cancel_requests()] == [commerce.orders[3]["payment"]["po_number"]]


@pytest.mark.parametrize(
    ("cancelled_by", "reason", "words"),
    [
        ("MERCHANT", "Out of stock", "by the seller in Seller Central (reason: Out of stock)"),
        ("BUYER", "Found a better price", "by the buyer (reason: Found a better price)"),
        ("AMAZON", "Payment not received", "by Amazon (reason: Payment not received)"),
    ],
)
def test_a_cancel_made_at_amazon_outside_the_bridge_ends_the_commerce_order_complete(
    start, commerce, amazon, cancelled_by, reason, words
):
    bridge, ctx = start()
    amazon_id = amazon_order(commerce, amazon, 10)
    untouched = amazon_order(commerce, amazon, 11)
    warm_mirrors(ctx)
    amazon.cancel_outside(amazon_id, cancelled_by, reason)
    catch_up(ctx, "us")
    drive(ctx, lambda: [r.state for r in bridge.cancel_requests()] == ["completed"])
    for _ in range(3):
        run_round(ctx)  # more rounds change nothing: never twice
    assert (commerce.orders[10]["state"], commerce.orders[10]["status"]) == ("complete", "complete")
    [comment] = comments(commerce, 10)
    assert f"Amazon order {amazon_id} was canceled at Amazon {words}" in comment
    assert commerce.customer_notifications == 0
    assert comments(commerce, 11) == [] and commerce.orders[11]["state"] == "processing"
    assert amazon.orders[untouched].status == "UNSHIPPED"
    assert amazon.calls["createFeed"] == 0 and sum(amazon.cancel_messages.values()) == 0
    assert sum(amazon.throttled.values()) == 0


def test_comment_only_leaves_the_order_open_and_drift_lists_it(start, commerce, amazon, bridge_env):
    bridge, ctx = start(BRIDGE_AMAZON_CANCELS="comment")
    amazon_id = amazon_order(commerce, amazon, 12, store_id=IT_STORE)
    warm_mirrors(ctx)
    amazon.cancel_outside(amazon_id, "MERCHANT", "Esaurito")
    catch_up(ctx, "it")
    drive(ctx, lambda: [r.state for r in bridge.cancel_requests()] == ["completed"])
    assert commerce.orders[12]["state"] == "processing"
    [comment] = comments(commerce, 12)
    assert comment.startswith(f"L'ordine Amazon {amazon_id} è stato annullato su Amazon dal venditore")  # it_IT store
    assert drift(bridge_env)["counts"] == {"canceled_in_commerce_only": 0, "canceled_at_amazon_only": 1}


def test_a_buyers_request_is_flagged_once_and_the_order_stays_open(start, commerce, amazon):
    bridge, ctx = start()
    amazon_id = amazon_order(commerce, amazon, 20)
    warm_mirrors(ctx)
    amazon.request_cancel(amazon_id, "Ordered the wrong size")
    catch_up(ctx, "us")
    drive(ctx, lambda: len(comments(commerce, 20)) == 1)
    for _ in range(3):
        run_round(ctx)
    [comment] = comments(commerce, 20)
    assert f"The buyer asked Amazon to cancel order {amazon_id} (reason: Ordered the wrong size)" in comment
    assert "BuyerCanceled" in comment
    assert commerce.orders[20]["state"] == "processing" and bridge.cancel_requests() == []
    assert commerce.customer_notifications == 0 and amazon.calls["createFeed"] == 0

    # The admin cancels in Commerce: Amazon gets BuyerCanceled, which spares the seller's Cancellation Rate.
    assert commerce.cancel(20) == (True, None)
    drive(ctx, lambda: [r.state for r in bridge.cancel_requests()] == ["completed"])
    [request] = bridge.cancel_requests()
    assert request.reason == "BuyerCanceled" and amazon.orders[amazon_id].cancel_reason == "BuyerCanceled"


def test_the_bridge_may_cancel_a_buyers_request_itself_when_the_merchant_says_so(start, commerce, amazon):
    bridge, ctx = start(BRIDGE_BUYER_CANCEL_REQUESTS="cancel")
    amazon_id = amazon_order(commerce, amazon, 21)
    warm_mirrors(ctx)
    amazon.request_cancel(amazon_id, "No longer needed")
    catch_up(ctx, "us")
    drive(ctx, lambda: [r.state for r in bridge.cancel_requests()] == ["completed"])
    assert amazon.orders[amazon_id].status == "CANCELLED" and amazon.cancel_messages[amazon_id] == 1
    assert amazon.orders[amazon_id].cancel_reason == "BuyerCanceled"
    assert commerce.orders[21]["state"] == "complete"
    [comment] = comments(commerce, 21)
    assert "at the buyer's request" in comment and amazon_id in comment


def run_drift(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridge.cli", "drift", *args],
        env={"PATH": os.environ["PATH"], "DATABASE_URL": env["DATABASE_URL"]},
        capture_output=True,
        text=True,
        timeout=60,
    )


def drift(env: dict[str, str]) -> dict:
    """``bridge drift --json``; its exit status is 1 when it lists any disagreement, 0 when none (checked here)."""
    result = run_drift(env, "--json")
    listed = json.loads(result.stdout)
    assert result.returncode == (1 if listed["orders"] else 0), result.stderr
    return listed


def test_drift_lists_each_kind_of_disagreement_and_nothing_else(start, commerce, amazon, bridge_env):
    bridge, ctx = start(BRIDGE_AMAZON_CANCELS="comment")
    ships = amazon_order(commerce, amazon, 30)  # canceled in Commerce, then shipped at Amazon
    stays_open = amazon_order(commerce, amazon, 31, store_id=IT_STORE)  # canceled in Commerce outside the bridge
    canceled_outside = amazon_order(commerce, amazon, 32)  # canceled at Amazon, left open in Commerce (comment only)
    agree_open, agree_shipped = amazon_order(commerce, amazon, 33), amazon_order(commerce, amazon, 34)
    both_canceled = amazon_order(commerce, amazon, 35)
    warm_mirrors(ctx)
    assert drift(bridge_env)["orders"] == [] and run_drift(bridge_env).returncode == 0  # nothing to say yet
    assert commerce.cancel(30) == (True, None)
    amazon.set_status(ships, "SHIPPED")  # shipped before the feed went out: the bridge's cancel is rejected
    hooks, commerce.cancel_hook = commerce.cancel_hook, None  # canceled where the bridge's hooks are not installed
    assert commerce.cancel(31) == (True, None)
    commerce.cancel_hook = hooks
    amazon.cancel_outside(canceled_outside, "BUYER", "Changed my mind")
    amazon.set_status(agree_shipped, "SHIPPED")
    commerce.orders[34]["state"] = commerce.orders[34]["status"] = "complete"
    assert commerce.cancel(35) == (True, None)
    drive(ctx, lambda: {r.commerce_entity_id: r.state for r in bridge.cancel_requests()} == {
        30: "rejected", 35: "completed"})  # fmt: skip
    catch_up(ctx, "us", "it")  # the scheduled refresh brings the cancel made at Amazon (the bridge read 30, 35 live)
    drive(ctx, lambda: {r.commerce_entity_id: r.state for r in bridge.cancel_requests()} == {
        30: "rejected", 32: "completed", 35: "completed"})  # fmt: skip
    catch_up(ctx, "us", "it")
    listed = drift(bridge_env)
    kinds = {(o["amazon_order_id"], o["kind"]) for o in listed["orders"]}
    assert kinds == {
        (ships, "canceled_in_commerce_only"),
        (stays_open, "canceled_in_commerce_only"),
        (canceled_outside, "canceled_at_amazon_only"),
    }
    assert listed["counts"] == {"canceled_in_commerce_only": 2, "canceled_at_amazon_only": 1}
    assert {agree_open, agree_shipped, both_canceled}.isdisjoint(o["amazon_order_id"] for o in listed["orders"])
    shown = run_drift(bridge_env)  # the table for people fails the same way, for a scheduled run to alert on
    assert shown.returncode == 1 and "canceled_in_commerce_only: 2" in shown.stdout
    only_it = json.loads(run_drift(bridge_env, "--json", "--store", "it").stdout)
    assert [o["amazon_order_id"] for o in only_it["orders"]] == [stays_open]


def test_a_full_page_of_orders_saved_in_one_second_ends_the_round(start, commerce):
    """A mass update saves a page's worth of orders in one second: the search stops on Commerce's total instead of
    reading the same page again and again (Commerce answers a page past the end with the last page)."""
    _, ctx = start()
    for entity_id in range(1, PAGE_SIZE + 1):
        commerce.add_order(entity_id, store_id=IT_STORE, payment_method="checkmo")
    for order in commerce.orders.values():
        order["updated_at"] = "2026-12-01 10:00:00"
    assert refresh_commerce_links(ctx) == PAGE_SIZE
    assert commerce.calls[SEARCH] <= 2
    assert ctx.links.cursor(LINK_CURSOR).complete_as_of is not None


def test_a_buyers_request_on_an_order_amazon_fulfills_is_left_to_amazon(start, commerce, amazon):
    """Amazon handles a buyer's request on an order it fulfills, and the bridge could not cancel it: no comment
    telling the admin to cancel in Commerce, no cancel of the bridge's own."""
    bridge, ctx = start(BRIDGE_BUYER_CANCEL_REQUESTS="cancel")
    amazon_id = amazon_order(commerce, amazon, 40, fulfilled_by="AMAZON")
    warm_mirrors(ctx)
    amazon.request_cancel(amazon_id, "No longer needed")
    catch_up(ctx, "us")
    assert ctx.mirror.find(amazon_id).order.buyer_requested_cancel  # the mirror holds it, request and all
    for _ in range(3):
        run_round(ctx)
    assert comments(commerce, 40) == [] and bridge.cancel_requests() == []
    assert amazon.calls["createFeed"] == 0


def test_an_order_amazon_fulfills_and_cancels_ends_its_commerce_order_as_well(start, commerce, amazon):
    """It will not ship either: its Commerce order is ended like any order canceled at Amazon, and nothing is sent."""
    bridge, ctx = start()
    amazon_id = amazon_order(commerce, amazon, 41, fulfilled_by="AMAZON")
    warm_mirrors(ctx)
    amazon.cancel_outside(amazon_id, "AMAZON", "Undeliverable address")
    catch_up(ctx, "us")
    drive(ctx, lambda: [r.state for r in bridge.cancel_requests()] == ["completed"])
    assert commerce.orders[41]["state"] == "complete"
    assert f"Amazon order {amazon_id} was canceled at Amazon by Amazon" in comments(commerce, 41)[0]
    assert amazon.calls["createFeed"] == 0
