"""The cancellation pipeline in-process: real HTTP to the stand-ins, real databases, the worker's own steps."""

from __future__ import annotations

import pytest

from bridge.domain.states import RequestState
from bridge.pipeline.amazon_view import refresh_store
from bridge.pipeline.steps.check_pending import check_pending
from bridge.pipeline.steps.confirm_commerce_cancels import confirm_commerce_cancels
from bridge.pipeline.worker import run_round
from bridge.pipeline.worker_context import WorkerContext
from tests.conftest import RunningBridge
from tests.pipeline_helpers import FAST_PIPELINE, drive
from tests.seeds import IT_STORE, US_STORE, amazon_order


@pytest.fixture
def bridge(start_bridge) -> RunningBridge:
    return start_bridge(**FAST_PIPELINE)


@pytest.fixture
def ctx(bridge: RunningBridge) -> WorkerContext:
    return bridge.worker()


def accept(bridge: RunningBridge, commerce, amazon, entity_ids, **seed) -> dict[int, str]:
    """Orders an admin canceled in Commerce (before hook, Commerce's cancel, after hook); their Amazon order ids."""
    ids = {}
    for entity_id in entity_ids:
        ids[entity_id] = amazon_order(commerce, amazon, entity_id, **seed)
        assert commerce.cancel(entity_id) == (True, None)
    return ids


def states(bridge: RunningBridge) -> dict[int, str]:
    return {r.commerce_entity_id: r.state for r in bridge.cancel_requests()}


def all_final(bridge: RunningBridge) -> bool:
    return all(s in ("completed", "rejected", "failed") for s in states(bridge).values())


def test_a_batch_for_one_marketplace_goes_out_as_one_feed_and_is_written_back(bridge, ctx, commerce, amazon):
    ids = accept(bridge, commerce, amazon, range(1, 6))
    drive(ctx, lambda: all_final(bridge))
    assert set(states(bridge).values()) == {"completed"}
    assert amazon.calls["createFeed"] == 1
    [feed] = amazon.feed_service.feeds.values()
    assert all(amazon.orders[a].status == "CANCELLED" for a in ids.values())
    assert all(amazon.cancel_messages[a] == 1 for a in ids.values())
    for entity_id, amazon_id in ids.items():
        order = commerce.orders[entity_id]
        assert (order["state"], order["status"]) == ("complete", "complete")
        assert order["increment_id"] == f"{entity_id:09d}"  # sent along, so not regenerated
        [comment] = [h["comment"] for h in order["status_histories"]]
        assert amazon_id in comment and "GeneralAdjustment" in comment and feed.feed_id in comment
    assert commerce.customer_notifications == 0
    assert sum(amazon.throttled.values()) == 0


def test_a_report_with_errors_rejects_exactly_the_named_orders(bridge, ctx, commerce, amazon):
    ids = accept(bridge, commerce, amazon, range(10, 14))
    assert confirm_commerce_cancels(ctx) == 4  # the after hooks' claims, read back
    while check_pending(ctx):
        pass
    assert set(states(bridge).values()) == {"ready"}
    for entity_id in (11, 13):  # shipped after the bridge's last look, before Amazon processed the feed
        amazon.set_status(ids[entity_id], "SHIPPED")
    drive(ctx, lambda: all_final(bridge))
    assert states(bridge) == {10: "completed", 11: "rejected", 12: "completed", 13: "rejected"}
    rejected = {r.commerce_entity_id: r for r in bridge.cancel_requests() if r.state == "rejected"}
    assert all(r.amazon_result_code == "13015" for r in rejected.values())
    for entity_id in (11, 13):
        order = commerce.orders[entity_id]
        assert order["state"] == "canceled"  # canceled in Commerce, not Complete
        [comment] = [h["comment"] for h in order["status_histories"]]
        assert f"Amazon did not cancel order {ids[entity_id]}" in comment and "Seller Central" in comment
    assert amazon.calls["createFeed"] == 1


def test_an_order_shipped_between_webhook_and_feed_is_not_sent(bridge, ctx, commerce, amazon):
    ids = accept(bridge, commerce, amazon, [20, 21], store_id=IT_STORE)
    amazon.set_status(ids[21], "SHIPPED")
    drive(ctx, lambda: all_final(bridge))
    assert states(bridge) == {20: "completed", 21: "rejected"}
    assert amazon.cancel_messages[ids[21]] == 0
    assert amazon.orders[ids[21]].status == "SHIPPED"
    [comment] = [h["comment"] for h in commerce.orders[21]["status_histories"]]
    assert comment.startswith(f"L'annullamento dell'ordine Amazon {ids[21]} non è stato inviato")  # the store's locale
    assert "SHIPPED" in comment


def test_already_cancelled_at_amazon_is_written_back_without_a_feed(bridge, ctx, commerce, amazon):
    accept(bridge, commerce, amazon, [30], status="CANCELLED")
    drive(ctx, lambda: all_final(bridge))
    assert states(bridge) == {30: "completed"}
    assert amazon.calls["createFeed"] == 0
    assert (commerce.orders[30]["state"], commerce.orders[30]["status"]) == ("complete", "complete")
    assert "already canceled at Amazon" in commerce.orders[30]["status_histories"][0]["comment"]


def test_a_fatal_feed_puts_its_requests_back_and_they_go_out_again(bridge, ctx, commerce, amazon):
    ids = accept(bridge, commerce, amazon, [40, 41])
    amazon.fail_next_feeds(1)
    drive(ctx, lambda: all_final(bridge))
    assert set(states(bridge).values()) == {"completed"}
    assert amazon.calls["createFeed"] == 2
    assert [r.attempts for r in bridge.cancel_requests()] == [2, 2]
    assert all(amazon.cancel_messages[a] == 2 for a in ids.values())  # resent: the FATAL feed applied nothing


def test_a_fatal_feed_that_did_cancel_is_not_sent_again(bridge, ctx, commerce, amazon):
    ids = accept(bridge, commerce, amazon, [42])
    amazon.fail_next_feeds(1, apply_messages=True)
    drive(ctx, lambda: all_final(bridge))
    assert states(bridge) == {42: "completed"}
    assert amazon.calls["createFeed"] == 1
    assert amazon.cancel_messages[ids[42]] == 1


def test_fatal_feeds_are_retried_a_bounded_number_of_times(start_bridge, commerce, amazon):
    bridge = start_bridge(**FAST_PIPELINE, BRIDGE_MAX_FEED_ATTEMPTS="2")
    ctx = bridge.worker()
    accept(bridge, commerce, amazon, [43])
    amazon.fail_next_feeds(5)
    drive(ctx, lambda: all_final(bridge))
    [request] = bridge.cancel_requests()
    assert (request.state, request.attempts) == ("failed", 2)
    assert "FATAL" in (request.last_error or "")
    assert commerce.orders[43]["state"] == "canceled"


def test_commerce_down_delays_the_write_back_then_completes_it(bridge, ctx, commerce, amazon):
    accept(bridge, commerce, amazon, [50])
    commerce.faults.add("GET /rest/V1/orders/<int:entity_id>", status=503, times=1000)  # the order, not the search
    drive(
        ctx,
        lambda: (
            states(bridge) == {50: RequestState.CANCELLED_AT_AMAZON}
            and commerce.calls["GET /rest/V1/orders/<int:entity_id>"] > 3
        ),
    )
    [request] = bridge.cancel_requests()
    assert "Commerce write-back" in (request.last_error or "")
    commerce.faults.clear()
    drive(ctx, lambda: all_final(bridge))
    assert states(bridge) == {50: "completed"}
    assert len(commerce.orders[50]["status_histories"]) == 1


def test_the_write_back_survives_commerce_rewriting_the_state(bridge, ctx, commerce, amazon):
    """Commerce may re-save the order in another state; the bridge reads back and tries again."""
    accept(bridge, commerce, amazon, [51])
    commerce.faults.add("POST /rest/V1/orders", status=500, times=2)
    drive(ctx, lambda: all_final(bridge))
    assert (commerce.orders[51]["state"], commerce.orders[51]["status"]) == ("complete", "complete")


def test_two_stores_two_feeds(bridge, ctx, commerce, amazon):
    accept(bridge, commerce, amazon, [60, 61], store_id=US_STORE)
    accept(bridge, commerce, amazon, [62], store_id=IT_STORE)
    drive(ctx, lambda: all_final(bridge))
    assert set(states(bridge).values()) == {"completed"}
    assert amazon.calls["createFeed"] == 2
    feeds = sorted(f.messages_processed for f in amazon.feed_service.feeds.values())
    assert feeds == [1, 2]


def test_two_feed_records_can_never_follow_the_same_amazon_feed(bridge, ctx, commerce, amazon):
    """Two workers recovering at once might both pick the same unknown Amazon feed; only one may keep it."""
    accept(bridge, commerce, amazon, [70])
    confirm_commerce_cancels(ctx)
    while check_pending(ctx):
        pass
    [group] = ctx.cancel_requests.ready_groups(ctx.clock() + 10)
    first, _ = ctx.feeds.open_batch("worker-a", group.key, ctx.clock(), 60, 100)
    accept(bridge, commerce, amazon, [71])
    confirm_commerce_cancels(ctx)
    while check_pending(ctx):
        pass
    [group] = ctx.cancel_requests.ready_groups(ctx.clock() + 10)
    second, _ = ctx.feeds.open_batch("worker-b", group.key, ctx.clock(), 60, 100)
    assert ctx.feeds.mark_uploaded(first, "worker-a", "doc-a", ctx.clock())
    assert ctx.feeds.mark_uploaded(second, "worker-b", "doc-b", ctx.clock())
    assert ctx.feeds.mark_submitted(first, "worker-a", "50001020999", ctx.clock())
    assert not ctx.feeds.mark_submitted(second, "worker-b", "50001020999", ctx.clock())
    assert [f.amazon_feed_id for f in ctx.feeds.all()] == ["50001020999", None]


def test_a_repeated_cancel_is_answered_by_what_became_of_the_request(bridge, ctx, commerce, amazon):
    """Under way: go on, without asking Amazon again. Rejected: decided again from Amazon's status of now."""
    [amazon_id] = accept(bridge, commerce, amazon, [80]).values()
    reads = amazon.calls["getOrder"]
    assert bridge.hook().post({"id": "80"}).json() == {"op": "success"}  # still under way
    assert amazon.calls["getOrder"] == reads
    amazon.set_status(amazon_id, "PENDING")  # Amazon put the order on hold before the feed went out
    drive(ctx, lambda: all_final(bridge))
    assert states(bridge) == {80: "rejected"}

    again = bridge.hook().post({"id": "80"}).json()  # never "success" from the record of a rejected request
    assert again["op"] == "exception" and "is Pending" in again["message"]
    assert states(bridge) == {80: "rejected"}

    amazon.set_status(amazon_id, "UNSHIPPED")
    assert refresh_store(ctx, ctx.stores.by_code("us"))  # the order mirror learns of it
    assert bridge.hook().post({"id": "80"}).json() == {"op": "success"}
    [restarted] = bridge.cancel_requests()
    assert (restarted.state, restarted.attempts, restarted.amazon_result_code) == ("awaiting_commerce", 0, None)
    drive(ctx, lambda: all_final(bridge))  # Commerce canceled the order the first time: the worker reads it back
    assert states(bridge) == {80: "completed"}
    assert amazon.cancel_messages[amazon_id] == 1
    # Both outcomes are on the order: the refusal first, then the cancel (one comment each, never a duplicate).
    comments = [history["comment"] for history in commerce.orders[80]["status_histories"]]
    assert len(comments) == 2
    assert "was not sent" in comments[0] and "/not-canceled-1]" in comments[0]
    assert "was canceled at Amazon" in comments[1] and comments[1].endswith(f"[amazon-cancel-bridge #{restarted.id}]")


def test_a_request_whose_message_cannot_be_built_fails_alone(bridge, ctx, commerce, amazon):
    """An increment id with a line break would sink the whole feed at Amazon: that request fails, its neighbours go."""
    ids = {entity_id: amazon_order(commerce, amazon, entity_id) for entity_id in (90, 91, 92)}
    commerce.orders[91]["increment_id"] = "000000091\n"
    for entity_id in ids:
        assert commerce.cancel(entity_id) == (True, None)
    drive(ctx, lambda: all_final(bridge))
    assert states(bridge) == {90: "completed", 91: "failed", 92: "completed"}
    [failed] = [r for r in bridge.cancel_requests() if r.state == "failed"]
    assert "cannot be built" in (failed.last_error or "") and "line breaks" in (failed.last_error or "")
    assert amazon.calls["createFeed"] == 1 and amazon.cancel_messages[ids[91]] == 0


def test_two_commerce_orders_of_one_amazon_order_cancel_it_once(bridge, ctx, commerce, amazon):
    """The second is canceled while the first one's feed is at Amazon: no second message, both end Complete."""
    amazon_id = amazon_order(commerce, amazon, 93)
    commerce.add_order(94, store_id=US_STORE, payment_method="amazonpayment", po_number=amazon_id)  # a duplicate
    amazon.feed_processing_delay = 3600  # Amazon keeps the first feed until the test says
    assert commerce.cancel(93) == (True, None)
    drive(ctx, lambda: states(bridge) == {93: "submitted"})
    assert commerce.cancel(94) == (True, None)
    drive(ctx, lambda: states(bridge)[94] == "pending" and bridge.cancel_requests()[1].last_error is not None)
    amazon.feed_processing_delay = 0
    drive(ctx, lambda: all_final(bridge))
    assert states(bridge) == {93: "completed", 94: "completed"}
    assert amazon.cancel_messages[amazon_id] == 1 and amazon.calls["createFeed"] == 1
    assert all(commerce.orders[e]["state"] == "complete" for e in (93, 94))


def test_a_cancel_confirmed_by_its_after_hook_is_sent_in_the_worker_s_next_round(bridge, ctx, commerce, amazon):
    """The after hook's claim is checked, not waited for: the round that reads the order back also sends it."""
    accept(bridge, commerce, amazon, [90])
    run_round(ctx)
    assert states(bridge)[90] not in (RequestState.AWAITING_COMMERCE, RequestState.PENDING)
