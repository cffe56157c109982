"""Every door keeps the rule the hook keeps: the API, the worker's last look before sending, a buyer's request the
bridge acts on, and the write-back. Real HTTP to the stand-ins, real databases, the worker's own steps."""

from __future__ import annotations

import json

import pytest

from bridge.domain.records import NewCancelRequest
from bridge.domain.states import RequestState, Source
from bridge.pipeline.amazon_view import backfill_store, refresh_store
from bridge.pipeline.steps.check_pending import check_pending
from bridge.pipeline.steps.reflect_amazon_changes import reflect_amazon_changes
from bridge.pipeline.steps.refresh_commerce_links import refresh_commerce_links
from bridge.services.sign_in import issue_api_token
from tests.conftest import RunningBridge
from tests.pipeline_helpers import FAST_PIPELINE, drive
from tests.seeds import IMPORT_OFF_STORE, amazon_order

CANCELLATIONS = "/api/v1/cancellations"
GET_ORDER = "GET /rest/V1/orders/<int:entity_id>"


@pytest.fixture
def bridge(start_bridge) -> RunningBridge:
    return start_bridge(**FAST_PIPELINE)


@pytest.fixture
def api(bridge: RunningBridge):
    """A tool's cancel through the API, with its token: the status and the body of the answer."""
    token = issue_api_token(bridge.parts.api_tokens, "robot")

    def cancel(body: dict) -> tuple[int, dict]:
        return cancel_through_api(bridge, token, body)

    return cancel


def cancel_through_api(bridge: RunningBridge, token: str, body: dict) -> tuple[int, dict]:
    response = bridge.app.test_client().post(
        CANCELLATIONS, data=json.dumps(body), headers={"Authorization": f"Bearer {token}"}
    )
    return response.status_code, response.json


def comments(commerce, entity_id: int) -> list[str]:
    return [history["comment"] for history in commerce.orders[entity_id]["status_histories"]]


def states(bridge: RunningBridge) -> list[str]:
    return [request.state for request in bridge.cancel_requests()]


@pytest.mark.parametrize(
    ("state", "words"),
    [
        ("holded", "is on hold"),
        ("payment_review", "is in payment review"),
        ("closed", "is closed (refunded)"),
        ("canceled", "is already canceled in Commerce"),
        ("complete", "is Complete"),
    ],
)
def test_an_order_commerce_would_not_cancel_is_refused_and_nothing_reaches_either_side(
    bridge, api, commerce, amazon, state, words
):
    amazon_id = amazon_order(commerce, amazon, 30)
    commerce.orders[30]["state"] = commerce.orders[30]["status"] = state
    status, body = api({"increment_id": "000000030"})
    assert status == 409, body
    assert (body["error"], body["commerce_state"]) == ("commerce_would_not_cancel", state)
    assert f"Commerce order #000000030 {words}" in body["message"] and amazon_id in body["message"]
    assert bridge.cancel_requests() == []
    assert amazon.calls["getOrder"] == 0 and amazon.calls["createFeed"] == 0  # decided before asking Amazon
    assert (commerce.orders[30]["state"], comments(commerce, 30)) == (state, [])


def test_buyer_canceled_only_where_the_buyer_asked(bridge, api, commerce, amazon):
    amazon_order(commerce, amazon, 31)
    status, body = api({"increment_id": "000000031", "reason": "BuyerCanceled"})
    assert (status, body["error"]) == (409, "reason_not_allowed"), body
    assert "has not asked Amazon to cancel" in body["message"] and bridge.cancel_requests() == []
    amazon_order(commerce, amazon, 32, buyer_requested_cancel=True)
    status, body = api({"increment_id": "000000032", "reason": "BuyerCanceled"})
    assert (status, body["reason"]) == (202, "BuyerCanceled"), body


def test_a_hold_placed_after_the_cancel_was_accepted_stops_it_before_amazon(bridge, api, commerce, amazon):
    amazon_id = amazon_order(commerce, amazon, 33)
    status, _ = api({"increment_id": "000000033"})
    assert status == 202
    commerce.orders[33]["state"] = commerce.orders[33]["status"] = "holded"  # a fraud review, before the feed
    drive(bridge.worker(), lambda: states(bridge) == ["rejected"])
    assert amazon.calls["createFeed"] == 0 and amazon.orders[amazon_id].status == "UNSHIPPED"
    assert commerce.orders[33]["state"] == "holded"
    [comment] = comments(commerce, 33)
    assert "did not send the cancel" in comment and "is on hold" in comment and "not set to Complete" in comment


def test_an_order_closed_while_amazon_canceled_it_keeps_its_state_and_gets_a_comment(bridge, api, commerce, amazon):
    amazon_id = amazon_order(commerce, amazon, 34)
    assert api({"increment_id": "000000034"})[0] == 202
    commerce.faults.add(GET_ORDER, status=503, times=1000)  # the write-back waits for Commerce ...
    ctx = bridge.worker()
    drive(ctx, lambda: states(bridge) == ["cancelled_at_amazon"] and commerce.calls[GET_ORDER] > 1)
    commerce.orders[34]["state"] = commerce.orders[34]["status"] = "closed"  # ... while the order is refunded
    commerce.faults.clear()
    drive(ctx, lambda: states(bridge) == ["completed"])
    assert amazon.orders[amazon_id].status == "CANCELLED"
    assert commerce.orders[34]["state"] == "closed"
    [comment] = comments(commerce, 34)
    assert "is canceled at Amazon" in comment and "is closed in Commerce" in comment and "left the order" in comment


def test_a_cancel_of_a_completed_order_says_so(bridge, api, commerce, amazon):
    amazon_order(commerce, amazon, 35)
    assert api({"increment_id": "000000035"})[0] == 202
    drive(bridge.worker(), lambda: states(bridge) == ["completed"])
    status, body = api({"increment_id": "000000035"})
    assert (status, body["error"], body["request_id"]) == (409, "already_completed", 1), body
    assert "has already been canceled through the cancel bridge" in body["message"]


def test_a_buyers_request_on_a_store_with_order_import_off_is_flagged_not_canceled(start_bridge, commerce, amazon):
    bridge = start_bridge(**FAST_PIPELINE, BRIDGE_BUYER_CANCEL_REQUESTS="cancel")
    ctx = bridge.worker()
    amazon_id = amazon_order(commerce, amazon, 36, store_id=IMPORT_OFF_STORE, buyer_requested_cancel=True)
    refresh_commerce_links(ctx)
    store = ctx.stores.by_code("de-import-off")
    assert refresh_store(ctx, store)  # mirrored while its import was still on
    backfill_store(ctx, store)  # the backfill's first window: the last day's orders
    assert reflect_amazon_changes(ctx) == 1
    assert bridge.cancel_requests() == []
    drive(ctx, lambda: len(comments(commerce, 36)) == 1)
    assert "The buyer asked Amazon to cancel order" in comments(commerce, 36)[0]
    assert amazon.calls["createFeed"] == 0 and amazon.orders[amazon_id].status == "UNSHIPPED"


def test_a_buyers_request_on_a_held_order_is_flagged_not_canceled(start_bridge, commerce, amazon):
    bridge = start_bridge(**FAST_PIPELINE, BRIDGE_BUYER_CANCEL_REQUESTS="cancel")
    ctx = bridge.worker()
    amazon_order(commerce, amazon, 37, buyer_requested_cancel=True)
    commerce.orders[37]["state"] = commerce.orders[37]["status"] = "holded"
    refresh_commerce_links(ctx)
    store = ctx.stores.by_code("us")
    assert refresh_store(ctx, store)
    backfill_store(ctx, store)  # the backfill's first window: the last day's orders
    assert reflect_amazon_changes(ctx) == 1
    assert bridge.cancel_requests() == [] and amazon.calls["createFeed"] == 0


def test_the_last_look_before_sending_checks_the_store_too(bridge, api, commerce, amazon):
    """A request recorded at pending while its store's import was on is not sent once import is off."""
    amazon_id = amazon_order(commerce, amazon, 38, store_id=IMPORT_OFF_STORE)
    ctx = bridge.worker()
    store = ctx.stores.by_code("de-import-off")
    request = NewCancelRequest.at_store(
        store, commerce_entity_id=38, increment_id="000000038", amazon_order_id=amazon_id, reason="NoInventory",
        decision="accept", source=Source.API, actor="robot",
    )  # fmt: skip
    assert ctx.cancel_requests.record(request, entry=RequestState.PENDING)
    assert check_pending(ctx) == 1
    [rejecting] = bridge.cancel_requests()
    assert (rejecting.state, rejecting.amazon_result_description) == ("rejecting", "order_import_off")
    assert amazon.calls["getOrder"] == 0
    drive(ctx, lambda: states(bridge) == ["rejected"])
    [comment] = comments(commerce, 38)
    assert "Order import is off" in comment and commerce.orders[38]["state"] == "processing"
