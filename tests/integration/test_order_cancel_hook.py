"""The cancel webhook's decision table: signed Commerce calls through Flask's test client, the bridge's clients
calling the Commerce and SP-API stand-ins over real HTTP."""

from __future__ import annotations

import json

import pytest

from bridge.pipeline.steps.confirm_commerce_cancels import confirm_commerce_cancels
from tests.conftest import AFTER_WEBHOOK_PATH, BOTH_DATABASES, HookResponse, RunningBridge
from tests.pipeline_helpers import FAST_PIPELINE, drive
from tests.seeds import IMPORT_OFF_STORE, IT_STORE, UNKNOWN_STORE, US_STORE, amazon_order


def answer_of(response: HookResponse) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


# --- the decision table -------------------------------------------------------------------------------------


def test_not_an_amazon_order_lets_commerce_go_on_and_records_nothing(bridge: RunningBridge, commerce, amazon):
    commerce.add_order(10, payment_method="checkmo")
    assert answer_of(bridge.hook().post({"subject": [], "id": "10"})) == {"op": "success"}
    assert bridge.cancel_requests() == []
    assert sum(amazon.calls.values()) == 0


def test_amazon_payment_without_po_number_is_not_an_amazon_order(bridge: RunningBridge, commerce):
    commerce.add_order(11, payment_method="amazonpayment", po_number=None)
    assert answer_of(bridge.hook().post({"id": 11})) == {"op": "success"}
    assert bridge.cancel_requests() == []


def test_unshipped_merchant_order_is_recorded_then_accepted(bridge: RunningBridge, commerce, amazon):
    amazon_id = amazon_order(commerce, amazon, 20)
    response = bridge.hook().post({"subject": [], "id": "20"})
    assert answer_of(response) == {"op": "success"}
    [recorded] = bridge.cancel_requests()
    assert recorded.commerce_entity_id == 20
    assert recorded.increment_id == "000000020"
    assert recorded.amazon_order_id == amazon_id
    assert recorded.store_code == "us"
    assert recorded.seller_id == "A2SELLERUS"
    assert recorded.marketplace_id == "ATVPDKIKX0DER"
    assert recorded.reason == "GeneralAdjustment"
    assert recorded.decision == "accept"
    assert recorded.state == "awaiting_commerce"  # nothing goes to Amazon before Commerce confirms
    assert recorded.commerce_request_id


def test_buyer_requested_cancel_is_recorded_as_buyer_canceled(bridge: RunningBridge, commerce, amazon):
    amazon_order(commerce, amazon, 21, buyer_requested_cancel=True)
    assert answer_of(bridge.hook().post({"id": "21"})) == {"op": "success"}
    assert [r.reason for r in bridge.cancel_requests()] == ["BuyerCanceled"]


@pytest.mark.parametrize(
    ("status", "fragment_en"),
    [
        ("PENDING", "is Pending: it can only be canceled in Amazon Seller Central"),
        ("PARTIALLY_SHIPPED", "is Partially Shipped: it can only be canceled in Amazon Seller Central"),
        ("SHIPPED", "handle returns and exchanges in Amazon Seller Central"),
        ("PENDING_AVAILABILITY", "is PENDING_AVAILABILITY at Amazon and cannot be canceled from Commerce"),
        ("UNFULFILLABLE", "is UNFULFILLABLE at Amazon"),
        ("SOMETHING_NEW", "is SOMETHING_NEW at Amazon"),
    ],
)
def test_statuses_that_cannot_be_canceled_from_commerce_stop_the_cancel(
    bridge: RunningBridge, commerce, amazon, status: str, fragment_en: str
):
    amazon_id = amazon_order(commerce, amazon, 30, status=status)
    answer = answer_of(bridge.hook().post({"id": "30"}))
    assert answer["op"] == "exception"
    assert amazon_id in answer["message"]
    assert fragment_en in answer["message"]
    assert bridge.cancel_requests() == []


def test_amazon_fulfilled_orders_are_refused(bridge: RunningBridge, commerce, amazon):
    amazon_id = amazon_order(commerce, amazon, 31, fulfilled_by="AMAZON")
    answer = answer_of(bridge.hook().post({"id": "31"}))
    assert answer == {
        "op": "exception",
        "message": f"Amazon order {amazon_id} is fulfilled by Amazon: it can only be canceled in Amazon Seller "
        "Central.",
    }
    assert bridge.cancel_requests() == []


def test_already_cancelled_at_amazon_goes_on_and_is_recorded_for_the_write_back(bridge, commerce, amazon):
    amazon_order(commerce, amazon, 32, status="CANCELLED")
    assert answer_of(bridge.hook().post({"id": "32"})) == {"op": "success"}
    assert [r.decision for r in bridge.cancel_requests()] == ["already_cancelled"]


def test_store_unknown_to_the_bridge_is_refused_without_asking_amazon(bridge: RunningBridge, commerce, amazon):
    amazon_id = amazon_order(commerce, amazon, 33, store_id=UNKNOWN_STORE)
    answer = answer_of(bridge.hook().post({"id": "33"}))
    assert answer["op"] == "exception"
    assert f"Amazon order {amazon_id} belongs to an Amazon store that is not set up" in answer["message"]
    assert amazon.calls["getOrder"] == 0
    assert bridge.cancel_requests() == []


def test_store_with_order_import_off_is_refused_without_asking_amazon(bridge: RunningBridge, commerce, amazon):
    amazon_id = amazon_order(commerce, amazon, 34, store_id=IMPORT_OFF_STORE)
    answer = answer_of(bridge.hook().post({"id": "34"}))
    assert answer == {
        "op": "exception",
        "message": f"Order import is off for the Amazon store of order {amazon_id}: manage this order in "
        "Amazon Seller Central.",
    }
    assert amazon.calls["getOrder"] == 0


def test_italian_store_answers_in_italian(bridge: RunningBridge, commerce, amazon):
    amazon_id = amazon_order(commerce, amazon, 35, store_id=IT_STORE, status="SHIPPED")
    answer = answer_of(bridge.hook().post({"id": "35"}))
    assert answer["op"] == "exception"
    assert answer["message"] == (
        f"L'ordine Amazon {amazon_id} è già stato spedito e non può essere annullato: i resi e gli scambi "
        "devono essere gestiti nel tuo account Amazon Seller Central."
    )


def test_order_unknown_at_amazon_is_refused_with_a_pointer_to_seller_central(bridge, commerce, amazon):
    commerce.add_order(36, store_id=US_STORE, payment_method="amazonpayment", po_number="111-0000000-0000000")
    answer = answer_of(bridge.hook().post({"id": "36"}))
    assert answer["op"] == "exception"
    assert "111-0000000-0000000 was not found" in answer["message"]


# --- the same cancel twice ----------------------------------------------------------------------------------


def test_the_same_cancel_sent_twice_records_one_request(bridge: RunningBridge, commerce, amazon):
    amazon_order(commerce, amazon, 40)
    hook = bridge.hook()
    first = answer_of(hook.post({"subject": [], "id": "40"}))
    second = answer_of(hook.post({"subject": [], "id": 40}))
    assert first == second == {"op": "success"}
    assert len(bridge.cancel_requests()) == 1
    assert commerce.calls["GET /rest/V1/orders/<int:entity_id>"] == 1  # the link is remembered
    assert amazon.calls["getOrder"] == 1  # the retry is answered from the record


@BOTH_DATABASES  # each database refuses the duplicate its own way (PostgreSQL: in the one statement that records)
def test_concurrent_duplicates_record_one_request(bridge: RunningBridge, commerce, amazon):
    from concurrent.futures import ThreadPoolExecutor

    amazon_order(commerce, amazon, 41)
    hook = bridge.http_hook()  # six real connections at once
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: answer_of(hook.post({"id": "41"})), range(6)))
    assert all(a == {"op": "success"} for a in answers)
    [request] = bridge.cancel_requests()
    assert [event.state for event in bridge.parts.request_queries.timeline(request.id)] == ["awaiting_commerce"]


# --- the after hook ------------------------------------------------------------------------------------------


def test_the_after_hook_s_claim_is_read_back_at_once(bridge: RunningBridge, commerce, amazon):
    """Commerce's word makes the request due now; the worker's read-back of the order moves it on."""
    amazon_order(commerce, amazon, 45)
    assert commerce.cancel(45) == (True, None)  # before hook, Commerce's cancel, after hook
    [request] = bridge.cancel_requests()
    assert (request.state, request.next_attempt_at) == ("awaiting_commerce", 0.0)
    searches = commerce.calls["GET /rest/V1/orders"]
    assert confirm_commerce_cancels(bridge.worker()) == 1
    assert commerce.calls["GET /rest/V1/orders"] == searches + 1  # one search for the batch
    assert [r.state for r in bridge.cancel_requests()] == ["pending"]
    assert answer_of(bridge.hook().post_after(45, canceled=True)) == {"op": "success"}  # a repeated hook: no change
    assert [r.state for r in bridge.cancel_requests()] == ["pending"]


def test_an_after_hook_claiming_a_cancel_commerce_did_not_make_sends_nothing(start_bridge, commerce, amazon):
    """A signed claim for an order Commerce never canceled (replayed, or forged by whoever holds the key): the
    read-back shows the order still processing, so the request waits, then ends with nothing sent anywhere."""
    bridge = start_bridge(**FAST_PIPELINE, BRIDGE_COMMERCE_CANCEL_WINDOW_SECONDS="1")
    amazon_id = amazon_order(commerce, amazon, 2020)
    assert answer_of(bridge.hook().post({"id": "2020"})) == {"op": "success"}
    assert answer_of(
        bridge.hook().post_bytes(b'{"subject":[],"result":true,"id":"2020"}', path=AFTER_WEBHOOK_PATH)
    ) == {"op": "success"}
    drive(bridge.worker(), lambda: [r.state for r in bridge.cancel_requests()] == ["not_canceled_in_commerce"])
    assert amazon.calls["createFeed"] == 0 and amazon.orders[amazon_id].status == "UNSHIPPED"
    assert (commerce.orders[2020]["state"], commerce.orders[2020]["status_histories"]) == ("processing", [])


def test_an_order_commerce_refused_to_cancel_ends_without_amazon(bridge: RunningBridge, commerce, amazon):
    """A held order: the bridge says go on, Commerce's canCancel() says no, its after hook says so."""
    amazon_order(commerce, amazon, 46)
    commerce.orders[46]["state"] = commerce.orders[46]["status"] = "holded"
    assert commerce.cancel(46) == (False, "You have not canceled the item.")
    [request] = bridge.cancel_requests()
    assert request.state == "not_canceled_in_commerce" and "did not cancel" in (request.last_error or "")
    assert commerce.orders[46]["state"] == "holded"


def test_the_after_hook_needs_commerces_signature_and_a_boolean_result(bridge: RunningBridge, commerce, amazon):
    amazon_order(commerce, amazon, 47)
    bridge.hook().post({"id": "47"})
    assert bridge.hook(private_key=None).post_after(47, canceled=True).status_code == 401
    for result in (b'"yes"', b"1", b'"true"', b"null"):  # only the JSON value true (or false) says anything
        bad = bridge.hook().post_bytes(b'{"subject":[],"result":%s,"id":"47"}' % result, path=AFTER_WEBHOOK_PATH)
        assert bad.status_code == 400, result
    assert [r.state for r in bridge.cancel_requests()] == ["awaiting_commerce"]


def test_an_after_hook_for_an_order_the_bridge_did_not_accept_changes_nothing(bridge: RunningBridge, commerce):
    commerce.add_order(48, payment_method="checkmo")
    assert answer_of(bridge.hook().post_after(48, canceled=True)) == {"op": "success"}
    assert bridge.cancel_requests() == []


def test_a_hook_called_with_another_method_is_405_with_allow(bridge: RunningBridge):
    response = bridge.app.test_client().get(AFTER_WEBHOOK_PATH)
    assert response.status_code == 405 and response.json["error"] == "method_not_allowed"
    assert {value.strip() for value in response.headers["Allow"].split(",")} == {"POST", "OPTIONS"}


def test_commerce_cancel_button_runs_the_hook_and_only_cancels_what_the_bridge_allows(
    bridge: RunningBridge, commerce, amazon
):
    amazon_order(commerce, amazon, 43)
    amazon_order(commerce, amazon, 44, status="SHIPPED")
    assert commerce.cancel(43) == (True, None)
    canceled, message = commerce.cancel(44)
    assert not canceled and message and "already shipped" in message
    assert commerce.orders[44]["state"] == "processing"


# --- Commerce auth modes ------------------------------------------------------------------------------------


def test_commerce_bearer_auth(bridge: RunningBridge, commerce, amazon):
    amazon_order(commerce, amazon, 50)
    assert answer_of(bridge.hook().post({"id": "50"})) == {"op": "success"}


def test_commerce_oauth1_auth_when_bearer_is_disabled(start_bridge, commerce, amazon):
    from tests.seeds import INTEGRATION

    commerce.accept_bearer = False
    bridge = start_bridge(
        COMMERCE_CONSUMER_KEY=INTEGRATION.consumer_key,
        COMMERCE_CONSUMER_SECRET=INTEGRATION.consumer_secret,
        COMMERCE_ACCESS_TOKEN_SECRET=INTEGRATION.access_token_secret,
    )
    amazon_order(commerce, amazon, 51)
    assert answer_of(bridge.hook().post({"id": "51"})) == {"op": "success"}
    assert len(bridge.cancel_requests()) == 1


def test_commerce_refusing_the_credentials_fails_closed(start_bridge, commerce, amazon):
    commerce.accept_bearer = False  # a store that does not take integration tokens as Bearer
    bridge = start_bridge()
    amazon_order(commerce, amazon, 52)
    answer = answer_of(bridge.hook().post({"id": "52"}))
    assert answer["op"] == "exception"
    assert "could not be checked" in answer["message"] and "#52" in answer["message"]
    assert bridge.cancel_requests() == []


def test_commerce_down_fails_closed_and_a_later_retry_succeeds(bridge: RunningBridge, commerce, amazon):
    amazon_order(commerce, amazon, 53)
    commerce.faults.add("GET", status=503, times=10)
    answer = answer_of(bridge.hook().post({"id": "53"}))
    assert answer["op"] == "exception" and "Try again in a few minutes" in answer["message"]
    assert bridge.cancel_requests() == []
    commerce.faults.clear()
    assert answer_of(bridge.hook().post({"id": "53"})) == {"op": "success"}


# --- Amazon faults -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 503])
def test_amazon_failing_persistently_fails_closed(bridge: RunningBridge, commerce, amazon, status: int):
    amazon_id = amazon_order(commerce, amazon, 60)
    amazon.faults.add("getOrder", status=status, times=10)
    answer = answer_of(bridge.hook().post({"id": "60"}))
    assert answer["op"] == "exception"
    assert answer["message"] == (
        f"The status of Amazon order {amazon_id} could not be confirmed with Amazon right now, so the order was "
        "not canceled. Try again in a few minutes."
    )
    assert bridge.cancel_requests() == []
    assert amazon.throttled["getOrder"] == 0


def test_one_amazon_500_is_retried_within_the_budget(bridge: RunningBridge, commerce, amazon):
    amazon_order(commerce, amazon, 61)
    amazon.faults.add("getOrder", status=500, times=1)
    assert answer_of(bridge.hook().post({"id": "61"})) == {"op": "success"}
    assert amazon.calls["getOrder"] == 2


def test_amazon_too_slow_for_the_budget_fails_closed_in_time(start_bridge, commerce, amazon):
    bridge = start_bridge(BRIDGE_WEBHOOK_BUDGET_MS="500")
    amazon_order(commerce, amazon, 62)
    amazon.faults.add("getOrder", delay=1.5, times=5)
    answer = answer_of(bridge.hook().post({"id": "62"}))
    assert answer["op"] == "exception" and "could not be confirmed" in answer["message"]
    assert amazon.calls["getOrder"] == 1  # given up at the budget, no retry after it: the slow answer never counted
    assert bridge.cancel_requests() == []


def test_quota_is_never_exceeded_by_the_bridge(start_bridge, commerce, amazon):
    """35 cancels in a row against getOrder's burst of 30: the bridge refuses the rest rather than earn 429s.

    The bucket refills so slowly (one token in 1,000 s, on both sides) that no token comes back during the test,
    whatever this machine's speed: exactly the burst goes through.
    """
    amazon.quotas["getOrder"] = (0.001, 30)
    bridge = start_bridge(SPAPI_QUOTAS="getOrder=0.001:30")
    for entity_id in range(100, 135):
        amazon_order(commerce, amazon, entity_id)
    answers = [answer_of(bridge.hook().post({"id": str(entity_id)})) for entity_id in range(100, 135)]
    assert [a["op"] for a in answers] == ["success"] * 30 + ["exception"] * 5
    assert all("could not be confirmed" in a["message"] for a in answers[30:])
    assert amazon.calls["getOrder"] == 30
    assert amazon.throttled["getOrder"] == 0


def test_lwa_token_is_exchanged_once_and_reused(bridge: RunningBridge, commerce, amazon):
    for entity_id in (70, 71, 72):
        amazon_order(commerce, amazon, entity_id)
        assert answer_of(bridge.hook().post({"id": str(entity_id)})) == {"op": "success"}
    assert amazon.token_exchanges == 1


# --- bad requests change nothing ------------------------------------------------------------------------------


def test_unsigned_request_is_401(bridge: RunningBridge, commerce, amazon):
    amazon_order(commerce, amazon, 80)
    response = bridge.hook(private_key=None).post({"id": "80"})
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert bridge.cancel_requests() == []
    assert sum(commerce.calls.values()) == 0


def test_request_signed_with_another_key_is_401(bridge: RunningBridge, commerce, amazon):
    from cryptography.hazmat.primitives.asymmetric import rsa

    amazon_order(commerce, amazon, 81)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    response = bridge.hook(private_key=other).post({"id": "81"})
    assert response.status_code == 401
    assert bridge.cancel_requests() == []


def test_body_changed_after_signing_is_401(bridge: RunningBridge, commerce, amazon):
    from standins.commerce_webhook import commerce_signature

    amazon_order(commerce, amazon, 82)
    signature = commerce_signature(b'{"subject":[],"id":"83"}', bridge.private_key)
    response = bridge.hook().post_bytes(b'{"subject":[],"id":"82"}', signature)
    assert response.status_code == 401
    assert bridge.cancel_requests() == []


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1,2]", b'{"subject":[]}', b'{"id":"abc"}', b'{"id":0}', b'{"id":4.5}', b'{"id":true}', b""],
)
def test_malformed_bodies_are_400(bridge: RunningBridge, body: bytes):
    response = bridge.hook().post_bytes(body)
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"
    assert bridge.cancel_requests() == []


def test_oversized_body_is_413(bridge: RunningBridge):
    response = bridge.hook().post_bytes(json.dumps({"id": "1", "padding": "x" * 70_000}).encode())
    assert response.status_code == 413
    assert response.json()["error"] == "request_entity_too_large"
    assert bridge.cancel_requests() == []


def test_secret_header_is_checked_when_configured(start_bridge, commerce, amazon):
    bridge = start_bridge(COMMERCE_WEBHOOK_SECRET="s3cret-header-value")
    amazon_order(commerce, amazon, 84)
    assert bridge.hook().post({"id": "84"}).status_code == 401  # signed, but no secret header
    wrong = bridge.hook(secret_header=("X-Bridge-Webhook-Secret", "guess")).post({"id": "84"})
    assert wrong.status_code == 401
    assert "s3cret" not in wrong.text
    right = bridge.hook(secret_header=("X-Bridge-Webhook-Secret", "s3cret-header-value")).post({"id": "84"})
    assert answer_of(right) == {"op": "success"}


def test_extra_fields_from_webhooks_xml_are_tolerated(bridge: RunningBridge, commerce, amazon):
    amazon_order(commerce, amazon, 85)
    assert answer_of(bridge.hook().post({"id": "85", "area_code": "adminhtml", "subject": []})) == {"op": "success"}


def test_a_higher_quota_announced_by_amazon_is_used(start_bridge, commerce, amazon):
    """Amazon grants some applications more than the published getOrder rate and says so in x-amzn-RateLimit-Limit."""
    amazon.quotas["getOrder"] = (5.0, 30)
    bridge = start_bridge(BRIDGE_MIRROR_MAX_AGE_SECONDS="0")
    for entity_id in range(200, 240):
        amazon_order(commerce, amazon, entity_id)
    answers = [answer_of(bridge.hook().post({"id": str(entity_id)})) for entity_id in range(200, 240)]
    assert answers == [{"op": "success"}] * 40  # at the published 0.5/s, the 32nd would have had to wait 4 s
    assert amazon.throttled["getOrder"] == 0
