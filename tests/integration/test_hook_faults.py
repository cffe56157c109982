"""The hooks under faults: whatever the database, the body or Amazon's headers do, Commerce gets an answer in its
own format within the budget, and nothing is recorded that should not be."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from bridge.logs import configure_logging
from bridge.settings import load_settings
from bridge.web.app import create_app
from standins.server import BackgroundServer
from tests.conftest import BOTH_DATABASES, WEBHOOK_PATH, RunningBridge
from tests.seeds import INTEGRATION, REFRESH_TOKENS, amazon_order

UNAVAILABLE = "could not be checked by the Amazon cancel bridge right now"


def answer_of(response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


# --- the database -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("table", ["mirror_cursors", "rate_buckets", "cancel_requests", "order_links"])
def test_a_table_the_bridge_cannot_use_answers_try_again_in_commerces_format(
    bridge: RunningBridge, commerce, amazon, table
):
    amazon_order(commerce, amazon, 10)
    with bridge.parts.engine.begin() as connection:
        connection.execute(text(f"DROP TABLE {table}"))
    answer = answer_of(bridge.hook().post({"id": "10"}))
    assert answer["op"] == "exception"
    assert UNAVAILABLE in answer["message"] or "could not be confirmed" in answer["message"]


def test_a_locked_sqlite_database_answers_within_the_budget(start_bridge, commerce, amazon, tmp_path: Path):
    bridge = start_bridge(BRIDGE_WEBHOOK_BUDGET_MS="1000")
    amazon_order(commerce, amazon, 11)
    holder = create_engine(str(bridge.parts.engine.url), connect_args={"timeout": 0})
    with holder.connect() as connection:
        connection.exec_driver_sql("BEGIN EXCLUSIVE")  # another process holds the write lock, and keeps it
        response = requests.post(
            bridge.webhook_url,
            data=b'{"subject":[],"id":"11"}',
            headers=bridge.hook().signed_headers(b'{"subject":[],"id":"11"}'),
            timeout=3,
        )
        connection.exec_driver_sql("ROLLBACK")
    holder.dispose()
    assert answer_of(response)["op"] == "exception"
    assert bridge.cancel_requests() == []


class SilentDatabase:
    """A server that accepts connections and never says a word: a database host that hangs."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            self._accepted.append(connection)

    def close(self) -> None:
        self._listener.close()
        for connection in self._accepted:
            connection.close()


@pytest.fixture
def silent_database() -> Iterator[SilentDatabase]:
    database = SilentDatabase()
    yield database
    database.close()


def test_a_database_that_never_replies_still_gets_commerce_an_answer(bridge_env, silent_database, private_key):
    """The hook answers "try again" within its budget, and /readyz says unavailable within a second."""
    env = {**bridge_env, "DATABASE_URL": f"postgresql://bridge@127.0.0.1:{silent_database.port}/bridge"}
    app = create_app(load_settings(env))
    server = BackgroundServer(app).start()
    try:
        body = b'{"subject":[],"id":"12"}'
        hook = RunningBridge(app, load_settings(env), server.url, private_key).hook()
        budget = 2.5
        response = requests.post(
            f"{server.url}{WEBHOOK_PATH}", data=body, headers=hook.signed_headers(body), timeout=budget + 0.5
        )
        answer = answer_of(response)
        assert answer["op"] == "exception" and UNAVAILABLE in answer["message"]
        ready = requests.get(f"{server.url}/readyz", timeout=1.0)
        assert ready.status_code == 503
    finally:
        server.stop()


# --- Amazon's rate header -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("announced", [float("inf"), float("nan"), -1.0])
def test_a_rate_header_that_is_not_a_positive_rate_is_ignored(start_bridge, commerce, amazon, announced, caplog):
    amazon.quotas["getOrder"] = (announced, 30)  # the stand-in announces it in x-amzn-RateLimit-Limit
    bridge = start_bridge(BRIDGE_MIRROR_MAX_AGE_SECONDS="0")
    for entity_id in (20, 21, 22):
        amazon_order(commerce, amazon, entity_id)
    with caplog.at_level(logging.WARNING, logger="bridge.clients.spapi"):
        answers = [answer_of(bridge.hook().post({"id": str(entity_id)})) for entity_id in (20, 21, 22)]
    assert answers == [{"op": "success"}] * 3
    assert any("x-amzn-RateLimit-Limit ignored" in r.getMessage() for r in caplog.records)


# --- what Commerce sends ------------------------------------------------------------------------------------------


@BOTH_DATABASES
def test_a_long_request_id_is_stored_cut_not_refused(bridge: RunningBridge, commerce, amazon):
    amazon_order(commerce, amazon, 30)
    body = b'{"subject":[],"id":"30"}'
    headers = {**bridge.hook().signed_headers(body), "x-adobe-commerce-request-id": "r" * 300}
    response = bridge.app.test_client().post(WEBHOOK_PATH, data=body, headers=headers)
    assert response.json == {"op": "success"}
    [request] = bridge.cancel_requests()
    assert request.commerce_request_id == "r" * 128


def test_a_deeply_nested_body_is_400(bridge: RunningBridge):
    body = b'{"id":' + b"[" * 20_000 + b"]" * 20_000 + b"}"
    response = bridge.hook().post_bytes(body)
    assert response.status_code == 400 and "nested" in response.json()["detail"]
    assert bridge.cancel_requests() == []


@pytest.mark.parametrize("raw_id", ['"\\uff14\\uff12"', '"4_2"', '"+42"', '" 42"', '"42.0"', "4.2e1"])
def test_an_id_is_ascii_digits_only(bridge: RunningBridge, commerce, raw_id: str):
    commerce.add_order(42, payment_method="checkmo")
    response = bridge.hook().post_bytes(b'{"subject":[],"id":' + raw_id.encode() + b"}")
    assert response.status_code == 400
    assert sum(commerce.calls.values()) == 0


def test_a_chunked_body_past_the_cap_is_413_not_cut(bridge: RunningBridge, commerce):
    """Sent in chunks, with no Content-Length to refuse it by: the body is refused, not read in part."""
    commerce.add_order(43, payment_method="checkmo")
    padded = b'{"id":"43","pad":"' + b"x" * 70_000 + b'"}'
    host, port = bridge.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    headers = bridge.hook().signed_headers(padded)
    connection.request("POST", WEBHOOK_PATH, body=iter([padded[:40_000], padded[40_000:]]), headers=headers)
    response = connection.getresponse()
    assert response.status == 413
    assert json.loads(response.read())["error"] == "request_entity_too_large"
    assert sum(commerce.calls.values()) == 0


# --- secrets ------------------------------------------------------------------------------------------------------


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("oauthlib").setLevel(logging.NOTSET)


def test_no_secret_reaches_the_log_even_at_debug(start_bridge, commerce, amazon, capsys, restore_logging):
    """OAuth-signed Commerce calls, LWA exchanges and SP-API calls, all at DEBUG: no secret value is written."""
    commerce.accept_bearer = False
    oauth = {
        "COMMERCE_CONSUMER_KEY": INTEGRATION.consumer_key,
        "COMMERCE_CONSUMER_SECRET": INTEGRATION.consumer_secret,
        "COMMERCE_ACCESS_TOKEN_SECRET": INTEGRATION.access_token_secret,
    }
    bridge = start_bridge(BRIDGE_LOG_LEVEL="DEBUG", **oauth)
    configure_logging("DEBUG", bridge.settings.secrets)
    amazon_order(commerce, amazon, 50)
    assert answer_of(bridge.hook().post({"id": "50"})) == {"op": "success"}
    logged = capsys.readouterr().err
    assert '"level": "DEBUG"' in logged  # the log really was at DEBUG
    secrets = [INTEGRATION.access_token, INTEGRATION.consumer_key, INTEGRATION.consumer_secret]
    secrets += [INTEGRATION.access_token_secret, amazon.client_secret, *(t for _, t in REFRESH_TOKENS.values())]
    for secret in secrets:
        assert secret not in logged
