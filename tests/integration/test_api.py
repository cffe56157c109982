"""The API for automation: token-checked cancels under the same rule as the hook, idempotent retries, the requests
read back, and an OpenAPI document that lists every answer the API gives. Flask's test client on the bridge's side;
the bridge's own clients reach the Commerce and Amazon stand-ins over HTTP."""

from __future__ import annotations

import hashlib
import json
import math
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from flask import render_template
from openapi_spec_validator import validate
from werkzeug.test import TestResponse

from bridge.pipeline.steps.refresh_commerce_links import refresh_commerce_links
from bridge.services.sign_in import issue_api_token
from bridge.storage.idempotency_keys import ABANDONED_CLAIM_SECONDS, IdempotencyKeys
from bridge.web.api_schemas import CANCELS_PER_TOKEN
from bridge.web.openapi import openapi_document
from tests.conftest import BOTH_DATABASES, RunningBridge
from tests.seeds import IT_STORE, amazon_order

CANCELLATIONS = "/api/v1/cancellations"


@pytest.fixture
def token(bridge: RunningBridge) -> str:
    return issue_api_token(bridge.parts.api_tokens, "robot")


def post(
    bridge: RunningBridge, body: Any, token: str | None, key: str | None = None, raw: bytes | None = None
) -> TestResponse:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if key is not None:
        headers["Idempotency-Key"] = key
    data = raw if raw is not None else json.dumps(body).encode()
    return bridge.app.test_client().post(CANCELLATIONS, data=data, headers=headers)


def get(bridge: RunningBridge, path: str, token: str | None, **query: str) -> TestResponse:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return bridge.app.test_client().get(path, query_string=query, headers=headers)


def links_known(bridge: RunningBridge) -> None:
    """The worker's link mirror caught up with Commerce: orders are found by their Amazon order id."""
    refresh_commerce_links(bridge.worker())


# --- cancel: accepted ---------------------------------------------------------------------------------------------


def test_a_cancel_by_order_number_is_recorded_pending_for_the_token(bridge, commerce, amazon, token):
    amazon_id = amazon_order(commerce, amazon, 20)
    response = post(bridge, {"increment_id": "000000020"}, token)
    assert response.status_code == 202, response.text
    body = response.json
    [recorded] = bridge.parts.request_queries.all()
    assert body["id"] == recorded.id
    assert body["links"] == {"self": f"{CANCELLATIONS}/{recorded.id}"}
    assert response.headers["Location"] == body["links"]["self"]
    assert (body["state"], body["source"], body["actor"]) == ("pending", "api", "robot")
    assert (body["amazon_order_id"], body["increment_id"], body["store"]) == (amazon_id, "000000020", "us")
    assert (body["reason"], body["decision"]) == ("GeneralAdjustment", "accept")  # the us store's default
    assert body["created_at"].endswith("Z") and body["updated_at"].endswith("Z")
    assert (recorded.state, recorded.source, recorded.actor) == ("pending", "api", "robot")
    assert (recorded.reason, recorded.commerce_entity_id) == ("GeneralAdjustment", 20)


def test_a_cancel_by_amazon_order_id_takes_buyer_canceled_when_the_buyer_asked(bridge, commerce, amazon, token):
    amazon_id = amazon_order(commerce, amazon, 21, buyer_requested_cancel=True)
    links_known(bridge)
    response = post(bridge, {"amazon_order_id": amazon_id}, token)
    assert response.status_code == 202, response.text
    assert (response.json["reason"], response.json["increment_id"]) == ("BuyerCanceled", "000000021")
    assert [r.reason for r in bridge.parts.request_queries.all()] == ["BuyerCanceled"]


def test_a_reason_given_is_the_reason_sent(bridge, commerce, amazon, token):
    amazon_order(commerce, amazon, 22, buyer_requested_cancel=True)
    response = post(bridge, {"increment_id": "000000022", "reason": "NoInventory"}, token)
    assert response.status_code == 202, response.text
    assert response.json["reason"] == "NoInventory"
    assert [r.reason for r in bridge.parts.request_queries.all()] == ["NoInventory"]


# --- cancel: refused ----------------------------------------------------------------------------------------------


def test_a_shipped_order_is_refused_with_the_admins_message(bridge, commerce, amazon, token):
    amazon_id = amazon_order(commerce, amazon, 23, status="SHIPPED")
    response = post(bridge, {"increment_id": "000000023"}, token)
    assert response.status_code == 409
    assert response.json == {
        "error": "shipped",
        "message": f"Amazon order {amazon_id} has already shipped and cannot be canceled: handle returns and "
        "exchanges in Amazon Seller Central.",
    }
    assert bridge.parts.request_queries.all() == []


def test_an_italian_stores_refusal_is_in_italian(bridge, commerce, amazon, token):
    amazon_order(commerce, amazon, 24, store_id=IT_STORE, status="SHIPPED")
    response = post(bridge, {"increment_id": "000000024"}, token)
    assert response.status_code == 409
    assert response.json["error"] == "shipped" and "spedito" in response.json["message"]


def test_a_second_cancel_of_the_same_order_is_under_way(bridge, commerce, amazon, token):
    amazon_order(commerce, amazon, 25)
    first = post(bridge, {"increment_id": "000000025"}, token)
    second = post(bridge, {"increment_id": "000000025"}, token)
    assert (first.status_code, second.status_code) == (202, 409)
    assert second.json["error"] == "under_way" and second.json["request_id"] == first.json["id"]
    assert f"#{first.json['id']}" in second.json["message"]
    assert len(bridge.parts.request_queries.all()) == 1


def test_an_order_nobody_knows_is_404(bridge, token):
    response = post(bridge, {"increment_id": "000000404"}, token)
    assert response.status_code == 404
    assert response.json["error"] == "order_not_known" and "#000000404" in response.json["message"]


@pytest.mark.parametrize("mirrored", [False, True], ids=["asking Commerce", "from the link mirror"])
def test_an_order_number_two_websites_share_is_refused_not_guessed(bridge, commerce, amazon, token, mirrored):
    amazon_order(commerce, amazon, 27)
    amazon_order(commerce, amazon, 28, store_id=IT_STORE)
    commerce.orders[28]["increment_id"] = "000000027"  # the Italian website numbers its orders the same way
    if mirrored:
        links_known(bridge)
    response = post(bridge, {"increment_id": "000000027"}, token)
    assert response.status_code == 409 and response.json["error"] == "order_number_ambiguous"
    assert "Amazon order id" in response.json["message"]
    assert bridge.parts.request_queries.all() == []


def test_an_order_not_paid_through_amazon_is_refused(bridge, commerce, token):
    commerce.add_order(26, store_id=2, payment_method="checkmo")
    response = post(bridge, {"increment_id": "000000026"}, token)
    assert response.status_code == 409 and response.json["error"] == "not_amazon"


def test_amazon_unable_to_confirm_the_status_is_503_not_a_refusal(bridge, commerce, amazon, token):
    amazon_order(commerce, amazon, 27)
    amazon.faults.add("getOrder", status=400, times=10)
    response = post(bridge, {"increment_id": "000000027"}, token)
    assert response.status_code == 503
    assert response.json["error"] == "unavailable" and "Try again" in response.json["message"]
    assert response.headers["Retry-After"].isdigit()
    assert bridge.parts.request_queries.all() == []


def test_commerce_down_is_503_without_details(bridge, commerce, amazon, token):
    amazon_order(commerce, amazon, 28)
    commerce.faults.add("GET", status=503, times=10)
    response = post(bridge, {"increment_id": "000000028"}, token)
    assert response.status_code == 503
    assert response.json["error"] == "unavailable" and "try again" in response.json["message"]
    assert "http" not in response.text.lower() and "secret" not in response.text.lower()


# --- cancel: bad requests -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [b"not json", b"", b"\xff\xfe", b'["increment_id"]', b'"000000020"'])
def test_a_body_that_is_not_a_json_object_is_400(bridge, token, raw: bytes):
    response = post(bridge, None, token, raw=raw)
    assert response.status_code == 400 and response.json["error"] == "bad_request"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"increment_id": "000000020", "reason": "ChangedMyMind"}, "reason"),
        ({"increment_id": "000000020", "amazon_order_id": "102-0000020-0000140"}, "_schema"),
        ({}, "_schema"),
        ({"reason": "NoInventory"}, "_schema"),
        ({"increment_id": "000000020", "force": True}, "force"),
        ({"increment_id": 20}, "increment_id"),
        ({"increment_id": ""}, "increment_id"),
    ],
)
def test_a_body_that_does_not_fit_is_422_with_the_field(bridge, token, body: dict, field: str):
    response = post(bridge, body, token)
    assert response.status_code == 422
    assert response.json["error"] == "invalid" and field in response.json["fields"]
    assert bridge.parts.request_queries.all() == []


def test_a_body_past_the_size_cap_is_413_in_the_apis_shape(bridge, token):
    response = post(bridge, None, token, raw=b'{"increment_id": "' + b"0" * 70_000 + b'"}')
    assert response.status_code == 413
    assert set(response.json) == {"error", "message"} and response.json["error"] == "request_entity_too_large"


# --- tokens -------------------------------------------------------------------------------------------------------


def test_without_a_live_token_nothing_is_read(bridge, commerce, amazon, token):
    amazon_order(commerce, amazon, 30)
    body = {"increment_id": "000000030"}
    answers = [post(bridge, body, None), post(bridge, body, "bridge_wrong"), post(bridge, None, None, raw=b"junk")]
    answers.append(bridge.app.test_client().post(CANCELLATIONS, json=body, headers={"Authorization": token}))
    assert bridge.parts.api_tokens.revoke("robot")
    answers.append(post(bridge, body, token))
    for response in answers:
        assert response.status_code == 401 and response.json["error"] == "unauthorized"
        assert response.headers["WWW-Authenticate"] == "Bearer"
    assert get(bridge, CANCELLATIONS, None).status_code == 401
    assert get(bridge, f"{CANCELLATIONS}/1", token).status_code == 401
    assert bridge.parts.request_queries.all() == []


def test_a_token_past_its_ceiling_is_429_and_nothing_is_read(bridge, commerce, amazon, token):
    """One runaway or leaked token cannot cancel a store's every order in a moment; other tokens are not slowed."""
    rate, burst = CANCELS_PER_TOKEN
    amazon_order(commerce, amazon, 31)
    started = time.monotonic()
    answers = [post(bridge, {"increment_id": "000000031"}, token) for _ in range(burst + 10)]
    elapsed = time.monotonic() - started
    statuses = [answer.status_code for answer in answers]
    # The first call cancels, the next ones find it under way; past the burst (and what refilled meanwhile): 429.
    assert statuses[0] == 202 and set(statuses[1:]) == {409, 429}
    assert burst <= statuses.count(202) + statuses.count(409) <= burst + math.ceil(rate * elapsed)
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert refused.json["error"] == "too_many_requests"
    assert 1 <= int(refused.headers["Retry-After"]) <= 1 + 1 / rate
    assert len(bridge.parts.request_queries.all()) == 1
    other = issue_api_token(bridge.parts.api_tokens, "another-robot")
    assert post(bridge, {"increment_id": "000000031"}, other).status_code == 409  # not refused: its own ceiling


# --- idempotency --------------------------------------------------------------------------------------------------


def test_a_retry_with_the_same_key_gets_the_same_answer_and_no_second_request(bridge, commerce, amazon, token):
    amazon_order(commerce, amazon, 40)
    first = post(bridge, {"increment_id": "000000040"}, token, key="retry-40")
    again = post(bridge, {"increment_id": "000000040"}, token, key="retry-40")
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.get_data() == first.get_data()
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert again.headers["Location"] == first.headers["Location"]
    assert len(bridge.parts.request_queries.all()) == 1
    without_key = post(bridge, {"increment_id": "000000040"}, token)
    assert without_key.status_code == 409 and without_key.json["error"] == "under_way"  # it is the key that replays


def test_a_refusal_is_replayed_too(bridge, commerce, amazon, token):
    """A retry gets the first answer even where a new call would now be answered otherwise."""
    amazon_id = amazon_order(commerce, amazon, 41, status="SHIPPED")
    first = post(bridge, {"increment_id": "000000041"}, token, key="k41")
    amazon.set_status(amazon_id, "UNSHIPPED")
    again = post(bridge, {"increment_id": "000000041"}, token, key="k41")
    assert (first.status_code, again.status_code) == (409, 409)
    assert again.json == first.json and again.json["error"] == "shipped"
    assert again.headers["Idempotent-Replayed"] == "true" and bridge.parts.request_queries.all() == []


def test_the_same_key_with_another_body_is_422(bridge, commerce, amazon, token):
    amazon_order(commerce, amazon, 42)
    amazon_order(commerce, amazon, 43)
    assert post(bridge, {"increment_id": "000000042"}, token, key="k").status_code == 202
    reused = post(bridge, {"increment_id": "000000043"}, token, key="k")
    assert reused.status_code == 422 and reused.json["error"] == "idempotency_key_reused"
    assert [r.commerce_entity_id for r in bridge.parts.request_queries.all()] == [42]


def test_keys_are_per_token(bridge, commerce, amazon, token):
    amazon_order(commerce, amazon, 44)
    amazon_order(commerce, amazon, 45)
    other = issue_api_token(bridge.parts.api_tokens, "other-robot")
    assert post(bridge, {"increment_id": "000000044"}, token, key="shared").status_code == 202
    theirs = post(bridge, {"increment_id": "000000045"}, other, key="shared")
    assert theirs.status_code == 202 and theirs.json["actor"] == "other-robot"


@BOTH_DATABASES
def test_a_retried_cancel_gets_the_first_answer_on_either_database(start_bridge, commerce, amazon):
    bridge = start_bridge()
    token = issue_api_token(bridge.parts.api_tokens, "robot")
    amazon_order(commerce, amazon, 48)
    first = post(bridge, {"increment_id": "000000048"}, token, key="again")
    second = post(bridge, {"increment_id": "000000048"}, token, key="again")
    assert first.status_code == second.status_code == 202, (first.json, second.json)
    assert first.json == second.json
    assert second.headers["Idempotent-Replayed"] == "true"
    [request] = bridge.parts.request_queries.all()
    assert (request.state, request.source, request.actor) == ("pending", "api", "robot")
    assert [event.state for event in bridge.parts.request_queries.timeline(request.id)] == ["pending"]


def test_a_key_whose_first_call_is_still_running_is_409(bridge, commerce, amazon, token):
    amazon_order(commerce, amazon, 46)
    body = json.dumps({"increment_id": "000000046"}).encode()
    keys: IdempotencyKeys = bridge.parts.idempotency_keys
    assert keys.claim("robot", "busy", hashlib.sha256(body).hexdigest(), time.time()) is None
    response = post(bridge, None, token, key="busy", raw=body)
    assert response.status_code == 409 and response.json["error"] == "idempotency_key_in_use"
    assert bridge.parts.request_queries.all() == []


def test_a_key_whose_first_call_died_unanswered_is_taken_over(bridge, commerce, amazon, token):
    amazon_order(commerce, amazon, 47)
    body = json.dumps({"increment_id": "000000047"}).encode()
    keys: IdempotencyKeys = bridge.parts.idempotency_keys
    died_at = time.time() - ABANDONED_CLAIM_SECONDS - 1  # its process was killed before it answered
    assert keys.claim("robot", "orphan", hashlib.sha256(body).hexdigest(), died_at) is None
    response = post(bridge, None, token, key="orphan", raw=body)
    assert response.status_code == 202
    assert post(bridge, None, token, key="orphan", raw=body).headers["Idempotent-Replayed"] == "true"
    assert len(bridge.parts.request_queries.all()) == 1


def test_a_503_gives_the_key_up_so_the_retry_runs(bridge, commerce, amazon, token):
    amazon_order(commerce, amazon, 47)
    commerce.faults.add("GET", status=503, times=10)
    assert post(bridge, {"increment_id": "000000047"}, token, key="k47").status_code == 503
    commerce.faults.clear()
    retry = post(bridge, {"increment_id": "000000047"}, token, key="k47")
    assert retry.status_code == 202 and "Idempotent-Replayed" not in retry.headers


@pytest.mark.parametrize("key", ["", "x" * 256, "schlüssel", "tab\there", " padded", "padded "])
def test_a_malformed_key_is_400(bridge, token, key: str):
    response = bridge.app.test_client().post(
        CANCELLATIONS,
        data=b'{"increment_id": "000000048"}',
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key.encode("utf-8").decode("latin-1")},
    )
    assert response.status_code == 400 and "Idempotency-Key" in response.json["message"]


# --- reading requests back ----------------------------------------------------------------------------------------


def test_a_request_is_read_back_with_its_timeline(bridge, commerce, amazon, token):
    amazon_order(commerce, amazon, 50)
    created = post(bridge, {"increment_id": "000000050"}, token).json
    response = get(bridge, created["links"]["self"], token)
    assert response.status_code == 200
    body = response.json
    assert {key: body[key] for key in created} == created
    assert [(event["state"], event["actor"]) for event in body["timeline"]] == [("pending", "robot")]
    assert body["timeline"][0]["at"].endswith("Z")
    assert "amazon_result" not in body and "last_error" not in body and "completed_at" not in body


def test_an_unknown_request_is_404(bridge, token):
    for request_id in ("999", str(2**64)):
        response = get(bridge, f"{CANCELLATIONS}/{request_id}", token)
        assert response.status_code == 404 and response.json["error"] == "not_found"
    unknown_address = get(bridge, "/api/v1/cancelations", token)  # misspelt: the API's shape still
    assert unknown_address.status_code == 404 and set(unknown_address.json) == {"error", "message"}


def test_the_list_filters_newest_first(bridge, commerce, amazon, token):
    us_ids = [amazon_order(commerce, amazon, entity_id) for entity_id in (60, 61, 62)]
    amazon_order(commerce, amazon, 63, store_id=IT_STORE)
    for entity_id in (60, 61, 62, 63):
        assert post(bridge, {"increment_id": f"{entity_id:09d}"}, token).status_code == 202

    def listed(**query: str) -> dict:
        response = get(bridge, CANCELLATIONS, token, **query)
        assert response.status_code == 200, response.text
        return response.json

    everything = listed()
    assert [item["increment_id"] for item in everything["items"]] == ["000000063", "000000062", "000000061",
                                                                        "000000060"]  # fmt: skip
    assert (everything["total"], everything["limit"]) == (4, 50)
    us = listed(store="us", limit="2")
    assert [item["amazon_order_id"] for item in us["items"]] == [us_ids[2], us_ids[1]]
    assert (us["total"], us["limit"]) == (3, 2)
    assert [item["increment_id"] for item in listed(amazon_order_id=us_ids[0])["items"]] == ["000000060"]
    assert listed(state="pending")["total"] == 4 and listed(state="completed")["total"] == 0
    newest = everything["items"][0]
    in_rome = datetime.fromisoformat(newest["updated_at"]).astimezone(timezone(timedelta(hours=2))).isoformat()
    for since in (newest["updated_at"], in_rome):  # its own time, read back, finds it: in UTC or with an offset
        assert newest["id"] in [item["id"] for item in listed(since=since)["items"]]
    assert listed(since="2999-01-01T00:00:00Z")["total"] == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [({"state": "done"}, "state"), ({"limit": "0"}, "limit"), ({"limit": "201"}, "limit"),
     ({"limit": "ten"}, "limit"), ({"since": "yesterday"}, "since"), ({"status": "pending"}, "status"),
     ({"since": "2024-05-01"}, "since"), ({"since": "20240501T120000Z"}, "since"),
     ({"since": "0001-01-01T00:00:00+23:59"}, "since"), ({"increment_id": "0" * 51}, "increment_id")]
    + [({name: ""}, name) for name in ("state", "store", "increment_id", "amazon_order_id", "since", "limit")],
)  # fmt: skip
def test_a_bad_list_parameter_is_422(bridge, token, query: dict, field: str):
    """An empty parameter too: a tool whose filter came out empty must not be handed every request."""
    response = get(bridge, CANCELLATIONS, token, **query)
    assert response.status_code == 422
    assert response.json["error"] == "invalid" and field in response.json["fields"]


def test_a_list_parameter_sent_twice_is_422(bridge, token):
    response = bridge.app.test_client().get(
        f"{CANCELLATIONS}?state=pending&state=completed", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 422 and response.json["fields"] == {"state": ["give this parameter once"]}


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [("DELETE", f"{CANCELLATIONS}/1", {"GET", "HEAD", "OPTIONS"}), ("PUT", CANCELLATIONS, {"GET", "HEAD", "OPTIONS",
     "POST"}), ("POST", "/api/v1/openapi.json", {"GET", "HEAD", "OPTIONS"})],
)  # fmt: skip
def test_a_method_the_address_does_not_serve_is_405_with_allow_in_the_apis_shape(bridge, method, path, allowed):
    response = bridge.app.test_client().open(path, method=method)
    assert response.status_code == 405 and set(response.json) == {"error", "message"}
    assert {value.strip() for value in response.headers["Allow"].split(",")} == allowed


# --- the OpenAPI document -----------------------------------------------------------------------------------------


def served_operations(bridge: RunningBridge) -> set[tuple[str, str]]:
    """Every (path, method) the API blueprint serves, in OpenAPI's spelling."""
    served = set()
    for rule in bridge.app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = rule.rule.replace("<int:request_id>", "{request_id}")
            served |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return served


def test_the_openapi_document_is_valid_and_needs_no_token(bridge):
    response = bridge.app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json
    validate(document)
    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "An API token from `bridge api-tokens create`.",
    }  # fmt: skip


def test_the_document_lists_every_operation_and_answer_the_api_gives(bridge):
    document = bridge.app.test_client().get("/api/v1/openapi.json").json
    documented = {(path, method) for path, operations in document["paths"].items() for method in operations}
    assert documented == served_operations(bridge)
    statuses = {
        ("/api/v1/cancellations", "post"): {"202", "400", "401", "404", "409", "413", "422", "429", "503"},
        ("/api/v1/cancellations", "get"): {"200", "401", "422", "503"},
        ("/api/v1/cancellations/{request_id}", "get"): {"200", "401", "404", "503"},
        ("/api/v1/openapi.json", "get"): {"200"},
    }
    assert {key: set(document["paths"][key[0]][key[1]]["responses"]) for key in statuses} == statuses
    create = document["paths"]["/api/v1/cancellations"]["post"]
    assert [p["name"] for p in create["parameters"] if p["in"] == "header"] == ["Idempotency-Key"]
    assert create["responses"]["202"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Cancellation"
    }
    request_body = document["components"]["schemas"]["CancellationRequest"]
    assert set(request_body["properties"]) == {"increment_id", "amazon_order_id", "reason"}
    assert "BuyerCanceled" in request_body["properties"]["reason"]["enum"]
    assert len(request_body["properties"]["reason"]["enum"]) == 10
    # As the server refuses them (422): both order names or neither, and any other field.
    assert request_body["oneOf"] == [{"required": ["increment_id"]}, {"required": ["amazon_order_id"]}]
    assert request_body["additionalProperties"] is False
    assert document["paths"]["/api/v1/openapi.json"]["get"]["security"] == []


def test_what_the_api_answers_fits_the_documented_schemas(bridge, commerce, amazon, token):
    """The document is generated from the schemas the views dump with: an answer has the documented fields."""
    amazon_order(commerce, amazon, 70)
    created = post(bridge, {"increment_id": "000000070"}, token).json
    document = bridge.app.test_client().get("/api/v1/openapi.json").json
    cancellation = document["components"]["schemas"]["Cancellation"]
    assert set(created) == set(cancellation["properties"]) == set(cancellation["required"])
    detail = get(bridge, created["links"]["self"], token).json
    assert set(detail) <= set(document["components"]["schemas"]["CancellationDetail"]["properties"])


def test_the_console_page_renders_every_operation(bridge):
    """The page itself needs a signed-in user; its template is rendered here as the console view renders it."""
    with bridge.app.test_request_context("/console/api"):
        page = render_template("console/api_docs.html", spec=openapi_document(), nav="api")
    for text in ("POST", "/api/v1/cancellations/{request_id}", "/api/v1/openapi.json", "bridge api-tokens create NAME",
                 "Authorization: Bearer &lt;token&gt;", "Idempotency-Key", "increment_id", "MerchandiseNotReceived",
                 "idempotency_key_reused", "413", "schema-CancellationDetail", "commerce_would_not_cancel",
                 "reason_not_allowed", "already_completed"):  # fmt: skip
        assert text in page, text
    assert "<script" not in page and "$ref" not in page
