"""Acceptance: the Procfile's ``release`` and ``web`` (gunicorn) processes, driven by an independent HTTP client.

The client signs with the shared reference key pair using ``cryptography`` directly, not the bridge's code.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from bridge.cancel_requests import CancelRequests
from bridge.database import make_engine
from bridge.standins.procfile import WebProcess, run_release
from tests.conftest import SHARED
from tests.test_order_cancel_webhook import IMPORT_OFF_STORE, IT_STORE, UNKNOWN_STORE, amazon_order

VECTOR = SHARED / "reference" / "commerce" / "signature-test-vector"
PRIVATE_KEY = load_pem_private_key((VECTOR / "test_private_key.pem").read_bytes(), password=None)


def signed_post(url: str, body: bytes, signature: str | None = None) -> requests.Response:
    if signature is None:
        raw = PRIVATE_KEY.sign(base64.b64encode(body), padding.PKCS1v15(), hashes.SHA256())
        signature = base64.b64encode(raw).decode()
    headers = {"Content-Type": "application/json", "x-adobe-commerce-webhook-signature": signature}
    return requests.post(url, data=body, headers=headers, timeout=10)


@pytest.fixture
def web(bridge_env: dict[str, str], tmp_path: Path) -> Iterator[WebProcess]:
    env = {k: v for k, v in bridge_env.items() if k != "COMMERCE_WEBHOOK_PUBLIC_KEY"}
    env["COMMERCE_WEBHOOK_PUBLIC_KEY_FILE"] = str(VECTOR / "test_public_key.pem")
    env["WEB_CONCURRENCY"] = "2"
    run_release(env)
    process = WebProcess(env, tmp_path / "web.log").wait_until_ready()
    process.database_url = env["DATABASE_URL"]  # type: ignore[attr-defined]
    yield process
    assert process.stop() == 0, (tmp_path / "web.log").read_text()


def recorded(web: WebProcess) -> list:
    return CancelRequests(make_engine(web.database_url)).all()  # type: ignore[attr-defined]


def test_deployed_service_answers_the_decision_table(web: WebProcess, commerce, amazon) -> None:
    url = f"{web.url}/webhooks/commerce/order-cancel"
    commerce.add_order(42, payment_method="checkmo")
    # Commerce's own signed request from the reference vector, byte for byte.
    vector_body = (VECTOR / "plugin_order_management_cancel_before.body.json").read_bytes()
    vector_signature = (
        VECTOR / "plugin_order_management_cancel_before.x-adobe-commerce-webhook-signature.txt"
    ).read_text()
    assert signed_post(url, vector_body, vector_signature.strip()).json() == {"op": "success"}

    expectations = {
        201: ({"store_id": 2}, "success", None),
        202: ({"store_id": 2, "status": "PENDING"}, "exception", "is Pending"),
        203: ({"store_id": 2, "status": "PARTIALLY_SHIPPED"}, "exception", "is Partially Shipped"),
        204: ({"store_id": IT_STORE, "status": "SHIPPED"}, "exception", "i resi e gli scambi"),
        205: ({"store_id": 2, "status": "CANCELLED"}, "success", None),
        206: ({"store_id": 2, "fulfilled_by": "AMAZON"}, "exception", "fulfilled by Amazon"),
        207: ({"store_id": IMPORT_OFF_STORE}, "exception", "Order import is off"),
        208: ({"store_id": UNKNOWN_STORE}, "exception", "not set up in the cancel bridge"),
        209: ({"store_id": 2, "status": "PENDING_AVAILABILITY"}, "exception", "Seller Central"),
    }
    for entity_id, (seed, op, fragment) in expectations.items():
        amazon_id = amazon_order(commerce, amazon, entity_id, **seed)
        response = signed_post(url, f'{{"subject":[],"id":"{entity_id}"}}'.encode())
        assert response.status_code == 200
        answer = response.json()
        assert answer["op"] == op, (entity_id, answer)
        if fragment:
            assert fragment in answer["message"] and amazon_id in answer["message"]
    assert sorted((r.commerce_entity_id, r.decision) for r in recorded(web)) == [
        (201, "accept"),
        (205, "already_cancelled"),
    ]
    assert amazon.throttled["getOrder"] == 0


def test_deployed_service_refuses_bad_requests_and_changes_nothing(web: WebProcess, commerce, amazon) -> None:
    url = f"{web.url}/webhooks/commerce/order-cancel"
    amazon_order(commerce, amazon, 301)
    body = b'{"subject":[],"id":"301"}'
    assert requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=5).status_code == 401
    tampered_signature = (
        VECTOR / "plugin_order_management_cancel_before.x-adobe-commerce-webhook-signature.txt"
    ).read_text()
    assert signed_post(url, body, tampered_signature.strip()).status_code == 401  # a signature of another body
    assert signed_post(url, b'{"subject":[]}').status_code == 400
    assert signed_post(url, b"{not json").status_code == 400
    oversized = signed_post(url, b'{"id":"301","pad":"' + b"x" * 70_000 + b'"}')
    assert oversized.status_code == 413
    assert oversized.headers["Content-Type"] == "application/json"
    assert recorded(web) == []
    assert sum(commerce.calls.values()) == 0 and sum(amazon.calls.values()) == 0
    assert requests.get(f"{web.url}/healthz", timeout=5).json() == {"status": "ok"}
