"""The console's sessions, cookies, redirects and languages, through Flask's test client (the browser tests drive
the pages themselves)."""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from bridge.composition import Storage
from bridge.domain.records import NewCancelRequest
from bridge.domain.states import RequestState
from bridge.logs import configure_logging
from bridge.services.sign_in import issue_api_token
from tests.conftest import RunningBridge

PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def bridge(start_bridge) -> RunningBridge:
    running = start_bridge()
    running.parts.accounts.create_user("olivia", PASSWORD, "operator", None)
    running.parts.accounts.create_user("giulia", PASSWORD, "viewer", "it_IT")
    return running


def sign_in(client: FlaskClient, name: str, password: str = PASSWORD, next_page: str = "", **kwargs):
    page = client.get("/console/sign-in", **kwargs).get_data(as_text=True)
    token = CSRF.search(page).group(1)
    form = {"csrf_token": token, "name": name, "password": password, "next": next_page}
    return client.post("/console/sign-in", data=form, **kwargs)


def test_pages_need_a_signed_in_user_and_come_back_after_signing_in(bridge: RunningBridge):
    client = bridge.app.test_client()
    response = client.get("/console/stores")
    assert response.status_code == 302 and "/console/sign-in?next=/console/stores" in response.location
    signed = sign_in(client, "olivia", next_page="/console/stores/us")
    assert signed.status_code == 302 and signed.location == "/console/stores/us"
    assert client.get("/console/stores/us").status_code == 200


def csrf_of(client: FlaskClient, page: str) -> str:
    return CSRF.search(client.get(page).get_data(as_text=True)).group(1)


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/console/", "//evil.example/x", "/\\evil.example/console/", "/webhooks/commerce/x",
        "/console/../webhooks/commerce/x", "/console/%2e%2e/metrics", "/console/stores\nSet-Cookie: planted=1",
        "/console/stores\r\n", "/console/stores\x00", "/console/\x7f", "/console/a store", "/console/" + "x" * 2000,
    ],
)  # fmt: skip
def test_a_sign_in_leading_off_the_console_is_refused_before_the_password_is_checked(
    bridge: RunningBridge, target: str
):
    client = bridge.app.test_client()
    refused = sign_in(client, "olivia", next_page=target)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "would lead away from the console" in page
    assert 'name="next" value=""' in page  # signing in again from here leads to the stores
    assert client.get("/console/stores").status_code == 302  # nobody signed in
    assert bridge.records.sign_in_failures.of("olivia").count == 0  # the password was never checked
    assert sign_in(client, "olivia").location == "/console/stores"


def test_a_page_with_a_newline_in_its_address_comes_back_after_signing_in(bridge: RunningBridge):
    """The address is kept percent-encoded, as the browser sent it, so the sign-in does not have to refuse it."""
    client = bridge.app.test_client()
    sent_away = client.get("/console/orders/113-0000001%0A?q=a%20b")
    [target] = parse_qs(urlsplit(sent_away.location).query)["next"]
    assert target == "/console/orders/113-0000001%0A?q=a%20b"
    signed = sign_in(client, "olivia", next_page=target)
    assert signed.status_code == 302 and signed.location == target
    assert client.get(target).status_code == 404  # the page it was, for a signed-in user


def test_the_session_cookie_is_httponly_samesite_and_secure_behind_tls(bridge: RunningBridge):
    plain = sign_in(bridge.app.test_client(), "olivia")
    cookie = plain.headers["Set-Cookie"]
    assert cookie.startswith("bridge_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # a local http demo: a Secure cookie would never come back
    # Over TLS the form must also come from this site (Flask-WTF checks the Referer there).
    tls_client = bridge.app.test_client()
    same_site = {"base_url": "https://bridge.example", "headers": {"Referer": "https://bridge.example/console/sign-in"}}
    assert "Secure" in sign_in(tls_client, "olivia", **same_site).headers["Set-Cookie"]
    elsewhere = {"base_url": "https://bridge.example", "headers": {"Referer": "https://evil.example/"}}
    assert sign_in(bridge.app.test_client(), "olivia", **elsewhere).status_code == 400


def test_a_wrong_password_or_an_unknown_name_gets_the_same_answer(bridge: RunningBridge):
    wrong = sign_in(bridge.app.test_client(), "olivia", "not the password")
    unknown = sign_in(bridge.app.test_client(), "nobody", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong name or password." in wrong.get_data(as_text=True)
    assert "Wrong name or password." in unknown.get_data(as_text=True)
    assert "bridge_session" not in wrong.headers.get("Set-Cookie", "")


def test_a_name_nobody_has_is_throttled_like_a_real_one(bridge: RunningBridge):
    """Otherwise the throttle's 429 would tell an attacker which names are accounts."""
    answers = {}
    for name in ("olivia", "nobody"):
        client = bridge.app.test_client()
        statuses = [sign_in(client, name, "not the password").status_code for _ in range(6)]
        answers[name] = (statuses, sign_in(client, name).get_data(as_text=True).count("Too many failed sign-ins"))
    assert answers["olivia"] == answers["nobody"] == ([401] * 5 + [429], 1)


def test_the_sign_in_form_needs_its_csrf_token(bridge: RunningBridge):
    client = bridge.app.test_client()
    refused = client.post("/console/sign-in", data={"name": "olivia", "password": PASSWORD})
    assert refused.status_code == 400 and "The form was refused" in refused.get_data(as_text=True)
    assert bridge.records.sign_in_failures.of("olivia").count == 0


def test_a_disabled_account_is_signed_out_at_its_next_click(bridge: RunningBridge):
    client = bridge.app.test_client()
    sign_in(client, "olivia")
    assert client.get("/console/stores").status_code == 200
    bridge.parts.users.set_disabled("olivia", True)
    response = client.get("/console/stores")
    assert response.status_code == 302 and "/console/sign-in" in response.location


@pytest.mark.parametrize("ending", ["sign-out", "set-password", "disable-then-enable"])
def test_a_copied_session_cookie_opens_nothing_once_the_accounts_sessions_ended(bridge: RunningBridge, ending: str):
    """A signed cookie cannot be taken back: the account's session version, raised here, is what ends it."""
    client, elsewhere = bridge.app.test_client(), bridge.app.test_client()
    sign_in(client, "olivia")
    sign_in(elsewhere, "olivia")  # the same account on another computer
    copied = client.get_cookie("bridge_session").value
    if ending == "sign-out":
        signed_out = client.post("/console/sign-out", data={"csrf_token": csrf_of(client, "/console/stores")})
        assert signed_out.status_code == 302 and signed_out.location == "/console/sign-in"
    elif ending == "set-password":
        bridge.parts.accounts.set_password("olivia", "a new passphrase after the leak")
    else:
        bridge.records.users.set_disabled("olivia", True)  # as 'bridge users disable' does, from another process
        bridge.records.users.set_disabled("olivia", False)
    thief = bridge.app.test_client()
    thief.set_cookie("bridge_session", copied)
    for stale in (thief, elsewhere):
        response = stale.get("/console/stores")
        assert response.status_code == 302 and "/console/sign-in" in response.location
    password = "a new passphrase after the leak" if ending == "set-password" else PASSWORD
    again = bridge.app.test_client()
    sign_in(again, "olivia", password)
    assert again.get("/console/stores").status_code == 200  # a new session is not ended by the old ones' end


def test_a_stronger_hash_at_sign_in_keeps_the_accounts_sessions(bridge: RunningBridge):
    """Rehashing the same password is no new password: nobody is signed out by it."""
    client = bridge.app.test_client()
    sign_in(client, "olivia")
    user = bridge.records.users.named("olivia")
    assert bridge.records.users.set_password_hash("olivia", user.password_hash)
    assert client.get("/console/stores").status_code == 200


def test_console_pages_are_never_framed_sniffed_or_cached(bridge: RunningBridge):
    client = bridge.app.test_client()
    answers = [client.get("/console/sign-in"), sign_in(client, "olivia"), client.get("/console/stores"),
               client.get("/console/stores/nowhere"), client.get("/")]  # fmt: skip
    for answer in answers:
        policy = answer.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Referrer-Policy"] == "same-origin"
        assert answer.headers["Cache-Control"] == "no-store"
    stylesheet = client.get("/console/static/console.css")
    assert stylesheet.status_code == 200 and stylesheet.headers["X-Content-Type-Options"] == "nosniff"


def a_failed_request(storage: Storage) -> int:
    """A request the worker gave up on: one an operator may retry."""
    storage.cancel_requests.record(
        NewCancelRequest(
            commerce_entity_id=1, increment_id="000000001", store_code="us", seller_id="A2SELLERUS",
            marketplace_id="ATVPDKIKX0DER", amazon_order_id="111-0000001-0000001", amazon_item_ids=("12345678901234",),
            reason="NoInventory", decision="accept", commerce_request_id=None,
        ),
        confirm_after=0.0,
    )  # fmt: skip
    [held] = storage.cancel_requests.claim("test", {RequestState.AWAITING_COMMERCE}, 1e12, 60, 1)
    storage.cancel_requests.move(held, "test", RequestState.PENDING)
    [held] = storage.cancel_requests.claim("test", {RequestState.PENDING}, 1e12, 60, 1)
    storage.cancel_requests.move(held, "test", RequestState.FAILED, last_error="feed FATAL five times")
    return held.id


def answered_try_again(response) -> bool:
    page = response.get_data(as_text=True)
    return response.status_code == 503 and response.headers["Retry-After"].isdigit() and "Try again" in page


def warned_without_traceback(caplog: pytest.LogCaptureFixture, count: int) -> None:
    warnings = [record for record in caplog.records if "could not be answered" in record.getMessage()]
    assert len(warnings) == count and all(record.levelno == logging.WARNING for record in warnings)
    assert not [record for record in caplog.records if record.exc_info or record.levelno >= logging.ERROR]


def test_a_locked_database_answers_try_again_and_changes_nothing(start_bridge, caplog: pytest.LogCaptureFixture):
    bridge = start_bridge(BRIDGE_WEBHOOK_BUDGET_MS="500")  # the web process waits 0.2 s for the lock
    bridge.parts.accounts.create_user("olivia", PASSWORD, "operator", None)
    failed = a_failed_request(bridge.records)
    operator, newcomer = bridge.app.test_client(), bridge.app.test_client()
    sign_in(operator, "olivia")
    operator_token, newcomer_token = csrf_of(operator, "/console/attention"), csrf_of(newcomer, "/console/sign-in")
    holder = create_engine(str(bridge.parts.engine.url), connect_args={"timeout": 0})
    caplog.set_level(logging.INFO)
    with holder.connect() as connection:
        connection.exec_driver_sql("BEGIN EXCLUSIVE")  # another process holds the write lock, and keeps it
        form = {"csrf_token": newcomer_token, "name": "olivia", "password": PASSWORD, "next": ""}
        signing_in = newcomer.post("/console/sign-in", data=form)
        retrying = operator.post(f"/console/requests/{failed}/retry", data={"csrf_token": operator_token})
        connection.exec_driver_sql("ROLLBACK")
    holder.dispose()
    assert answered_try_again(signing_in) and answered_try_again(retrying)
    warned_without_traceback(caplog, 2)
    assert newcomer.get("/console/stores").status_code == 302
    assert bridge.records.cancel_requests.get(failed).state == RequestState.FAILED


def test_a_database_the_console_cannot_read_answers_try_again(bridge: RunningBridge, caplog: pytest.LogCaptureFixture):
    client = bridge.app.test_client()
    sign_in(client, "olivia")
    caplog.set_level(logging.INFO)
    with bridge.records.engine.begin() as connection:
        connection.execute(text("DROP TABLE cancel_requests"))
    pages = [client.get("/console/stores"), client.get("/console/attention")]
    with bridge.records.engine.begin() as connection:
        connection.execute(text("DROP TABLE users"))  # not even who is signed in can be read
    pages.append(client.get("/console/stores"))
    assert all(answered_try_again(page) for page in pages)
    assert "olivia" not in pages[-1].get_data(as_text=True)
    assert client.get("/console/nowhere").status_code == 404  # an error page needs no account to say so
    warned_without_traceback(caplog, 3)


def test_the_language_is_the_users_choice_else_the_browsers(bridge: RunningBridge):
    italian_browser = bridge.app.test_client()
    sign_in(italian_browser, "olivia", headers={"Accept-Language": "it-IT,it;q=0.9,en;q=0.5"})
    page = italian_browser.get("/console/stores", headers={"Accept-Language": "it-IT,it;q=0.9"}).get_data(as_text=True)
    assert "Negozi Amazon" in page and 'lang="it-IT"' in page
    english_browser = bridge.app.test_client()
    sign_in(english_browser, "olivia", headers={"Accept-Language": "en-US"})
    assert "Amazon stores" in english_browser.get("/console/stores").get_data(as_text=True)
    giulia = bridge.app.test_client()
    sign_in(giulia, "giulia")  # chose it_IT; her browser asks for English
    assert "Negozi Amazon" in giulia.get("/console/stores", headers={"Accept-Language": "en-US"}).get_data(as_text=True)


def test_unknown_pages_answer_in_the_console_and_machines_still_get_json(bridge: RunningBridge):
    client = bridge.app.test_client()
    sign_in(client, "olivia")
    missing = client.get("/console/stores/nowhere")
    assert missing.status_code == 404 and "No store has the code nowhere." in missing.get_data(as_text=True)
    assert client.get("/webhooks/nowhere").json["error"] == "not_found"


def test_the_api_page_renders_the_openapi_document(bridge: RunningBridge):
    client = bridge.app.test_client()
    sign_in(client, "giulia")
    page = client.get("/console/api", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    assert "/api/v1/cancellations" in page and "/api/v1/openapi.json" in page


def test_passwords_tokens_and_session_cookies_never_reach_the_log(start_bridge, commerce, amazon, capsys):
    """Sign-ins (wrong and right), a console page and API calls, at DEBUG, over real HTTP."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        bridge = start_bridge(BRIDGE_LOG_LEVEL="DEBUG")
        configure_logging("DEBUG", bridge.settings.secrets)
        bridge.parts.accounts.create_user("olivia", PASSWORD, "operator", None)
        token = issue_api_token(bridge.parts.api_tokens, "robot")
        browser = requests.Session()
        for password in ("a wrong password guess", PASSWORD):
            page = browser.get(f"{bridge.url}/console/sign-in", timeout=10).text
            form = {"csrf_token": CSRF.search(page).group(1), "name": "olivia", "password": password, "next": ""}
            browser.post(f"{bridge.url}/console/sign-in", data=form, timeout=10)
        assert browser.get(f"{bridge.url}/console/stores", timeout=10).status_code == 200
        cookie = browser.cookies["bridge_session"]
        api = {"Authorization": f"Bearer {token}"}
        requests.post(f"{bridge.url}/api/v1/cancellations", json={"increment_id": "1"}, headers=api, timeout=10)
        requests.get(f"{bridge.url}/api/v1/cancellations?state=failed", headers=api, timeout=10)
        logged = capsys.readouterr().err
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    assert '"level": "DEBUG"' in logged and '"signed in"' in logged and "/api/v1/cancellations" in logged
    for secret in (PASSWORD, "a wrong password guess", token, cookie, bridge.app.secret_key):
        assert secret not in logged


def test_a_method_a_page_does_not_serve_is_405_with_allow(bridge: RunningBridge):
    """Before sign-in too: the method is refused by the address, not by the session."""
    response = bridge.app.test_client().delete("/console/stores")
    assert response.status_code == 405 and response.mimetype == "text/html"
    assert {value.strip() for value in response.headers["Allow"].split(",")} == {"GET", "HEAD", "OPTIONS"}
