"""The console's sessions, cookies, redirects and languages, through Flask's test client (the browser tests drive
the pages themselves)."""

from __future__ import annotations

import logging
import re

import pytest
import requests
from flask.testing import FlaskClient

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


@pytest.mark.parametrize("target", ["https://evil.example/console/", "//evil.example/x", "/webhooks/commerce/x"])
def test_signing_in_never_redirects_off_the_console(bridge: RunningBridge, target: str):
    signed = sign_in(bridge.app.test_client(), "olivia", next_page=target)
    assert signed.status_code == 302 and signed.location == "/console/stores"


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
