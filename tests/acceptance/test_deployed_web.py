"""Acceptance: the Procfile's ``release`` and ``web`` (gunicorn) processes, driven by an independent HTTP client.

The client signs with ``cryptography`` directly, never with the bridge's code; Commerce's own signed request from
Adobe's published vector is replayed byte for byte when the official reference is at hand.
"""

from __future__ import annotations

import base64
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from bridge.storage.engine import make_engine
from bridge.storage.request_queries import RequestQueries
from standins.procfile import WebProcess, run_release
from tests.reference import reference
from tests.seeds import IMPORT_OFF_STORE, IT_STORE, UNKNOWN_STORE, amazon_order


@pytest.fixture(scope="module")
def client_key() -> RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def signature_of(body: bytes, key: RSAPrivateKey) -> str:
    return base64.b64encode(key.sign(base64.b64encode(body), padding.PKCS1v15(), hashes.SHA256())).decode()


def signed_post(url: str, body: bytes, key: RSAPrivateKey, signature: str | None = None) -> requests.Response:
    signature = signature or signature_of(body, key)
    headers = {"Content-Type": "application/json", "x-adobe-commerce-webhook-signature": signature}
    return requests.post(url, data=body, headers=headers, timeout=10)


def public_pem(key: RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.fixture
def start_web(bridge_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., WebProcess]]:
    """The Procfile's release, then web, verifying webhooks with the public key in the given file."""
    started: list[WebProcess] = []

    def start(public_key_file: Path, **more_env: str) -> WebProcess:
        env = {k: v for k, v in bridge_env.items() if k != "COMMERCE_WEBHOOK_PUBLIC_KEY"} | more_env
        env["COMMERCE_WEBHOOK_PUBLIC_KEY_FILE"] = str(public_key_file)
        env["WEB_CONCURRENCY"] = "2"
        run_release(env)
        process = WebProcess(env, tmp_path / "web.log").wait_until_ready()
        process.database_url = env["DATABASE_URL"]  # type: ignore[attr-defined]
        started.append(process)
        return process

    yield start
    for process in started:
        assert process.stop() == 0, (tmp_path / "web.log").read_text()


@pytest.fixture
def web(start_web: Callable[..., WebProcess], client_key: RSAPrivateKey, tmp_path: Path) -> WebProcess:
    key_file = tmp_path / "commerce_webhook_public_key.pem"
    key_file.write_bytes(public_pem(client_key))
    return start_web(key_file)


def recorded(web: WebProcess) -> list:
    return RequestQueries(make_engine(web.database_url)).all()


def test_deployed_service_takes_commerces_own_signed_request(start_web, commerce, amazon) -> None:
    vector = reference("commerce", "signature-test-vector")
    web = start_web(vector / "test_public_key.pem")
    commerce.add_order(42, payment_method="checkmo")
    body = (vector / "plugin_order_management_cancel_before.body.json").read_bytes()
    signature = (vector / "plugin_order_management_cancel_before.x-adobe-commerce-webhook-signature.txt").read_text()
    response = requests.post(
        f"{web.url}/webhooks/commerce/order-cancel",
        data=body,
        headers={"Content-Type": "application/json", "x-adobe-commerce-webhook-signature": signature.strip()},
        timeout=10,
    )
    assert response.json() == {"op": "success"}
    assert commerce.calls["GET /rest/V1/orders/<int:entity_id>"] == 1


def test_deployed_service_answers_the_decision_table(web: WebProcess, client_key, commerce, amazon) -> None:
    url = f"{web.url}/webhooks/commerce/order-cancel"
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
        response = signed_post(url, f'{{"subject":[],"id":"{entity_id}"}}'.encode(), client_key)
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


def test_deployed_service_refuses_bad_requests_and_changes_nothing(web: WebProcess, client_key, commerce, amazon):
    url = f"{web.url}/webhooks/commerce/order-cancel"
    amazon_order(commerce, amazon, 301)
    body = b'{"subject":[],"id":"301"}'
    assert requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=5).status_code == 401
    signature = signature_of(b'{"subject":[],"id":"302"}', client_key)
    assert signed_post(url, body, client_key, signature).status_code == 401  # a signature of another body
    assert signed_post(url, b'{"subject":[]}', client_key).status_code == 400
    assert signed_post(url, b"{not json", client_key).status_code == 400
    oversized = signed_post(url, b'{"id":"301","pad":"' + b"x" * 70_000 + b'"}', client_key)
    assert oversized.status_code == 413
    assert oversized.headers["Content-Type"] == "application/json"
    assert recorded(web) == []
    assert sum(commerce.calls.values()) == 0 and sum(amazon.calls.values()) == 0
    assert requests.get(f"{web.url}/healthz", timeout=5).json() == {"status": "ok"}


def test_stalled_connections_do_not_hold_up_commerces_hooks(web: WebProcess, client_key, commerce, amazon) -> None:
    """Forty clients that send half their headers and stop (more than the web process has threads or workers):
    Commerce's signed hook still gets its answer, within the client's own wait."""
    host, port = web.url.removeprefix("http://").split(":")
    stalled = []
    try:
        for _ in range(40):
            connection = socket.create_connection((host, int(port)), timeout=5)
            connection.sendall(b"POST /webhooks/commerce/order-cancel HTTP/1.1\r\nHost: bridge\r\nContent-Le")
            stalled.append(connection)
        amazon_order(commerce, amazon, 401)
        response = signed_post(f"{web.url}/webhooks/commerce/order-cancel", b'{"subject":[],"id":"401"}', client_key)
        assert response.status_code == 200 and response.json() == {"op": "success"}
    finally:
        for connection in stalled:
            connection.close()


def test_a_trickled_body_is_cut_off_while_hooks_are_answered(start_web, client_key, commerce, amazon, tmp_path):
    """Clients that declare a body and send one byte of it: each holds a connection slot only until the body
    deadline, then gets 408; Commerce's signed hook is answered meanwhile."""
    key_file = tmp_path / "commerce_webhook_public_key.pem"
    key_file.write_bytes(public_pem(client_key))
    web = start_web(key_file, BRIDGE_REQUEST_BODY_SECONDS="1")
    host, port = web.url.removeprefix("http://").split(":")
    trickling = []
    try:
        for path in ("/console/sign-in", "/webhooks/commerce/order-cancel", "/api/v1/cancellations") * 100:
            connection = socket.create_connection((host, int(port)), timeout=10)
            connection.sendall(f"POST {path} HTTP/1.1\r\nHost: bridge\r\nContent-Length: 60000\r\n\r\n{{".encode())
            trickling.append(connection)
        amazon_order(commerce, amazon, 402)
        response = signed_post(f"{web.url}/webhooks/commerce/order-cancel", b'{"subject":[],"id":"402"}', client_key)
        assert response.status_code == 200 and response.json() == {"op": "success"}
        for connection in trickling:  # each answered, within the deadline plus the client's patience
            assert connection.recv(64).startswith(b"HTTP/1.1 408")
    finally:
        for connection in trickling:
            connection.close()
