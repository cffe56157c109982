"""The sign-in throttle against a real database: guesses sent together are counted before any is checked (SQLite and
PostgreSQL), a flooding address is stopped without holding up anyone else, and what was typed as a name is neither
logged nor kept unless an account has it."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterator

import pytest
import requests
from flask.testing import FlaskClient
from sqlalchemy import Engine, insert, select

from bridge.composition import build_accounts, build_storage
from bridge.domain.sign_in_throttle import BY_CLIENT, BY_NAME
from bridge.services.sign_in import Accounts, HashingThreads, SignInOutcome, unknown_names_key
from bridge.storage.engine import make_engine, upgrade
from bridge.storage.sign_in_failures import Counter, Refused, SignInFailures
from bridge.storage.tables import sign_in_failures
from tests.conftest import BOTH_DATABASES, RunningBridge

PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
RACERS = 41
CHECKS_PER_NAME = BY_NAME.free_failures + 1  # the fifth wrong password is the last one checked
CHECKS_PER_CLIENT = BY_CLIENT.free_failures + 1
FLOODER, OPERATOR_DESK, PROXY = "198.51.100.7", "203.0.113.9", "10.0.0.7"


@pytest.fixture
def bridge(start_bridge: Callable[..., RunningBridge]) -> RunningBridge:
    running = start_bridge()
    running.parts.accounts.create_user("olivia", PASSWORD, "operator", None)
    return running


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def sign_in(client: FlaskClient, name: str, password: str, address: str, forwarded_for: str | None = None):
    """One sign-in from ``address`` (the peer gunicorn would report), through a proxy when ``forwarded_for``."""
    environ = {"REMOTE_ADDR": address}
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    page = client.get("/console/sign-in", environ_base=environ).get_data(as_text=True)
    form = {"csrf_token": CSRF.search(page).group(1), "name": name, "password": password, "next": ""}
    return client.post("/console/sign-in", data=form, environ_base=environ, headers=headers)


def race(bridge: RunningBridge, name: str) -> list[requests.Response]:
    """RACERS browsers, each with its sign-in page open, send their guesses for ``name`` at the same moment over
    HTTP: one of them the right password."""
    browsers = []
    for _ in range(RACERS):
        browser = requests.Session()
        page = browser.get(f"{bridge.url}/console/sign-in", timeout=10).text
        browsers.append((browser, CSRF.search(page).group(1)))
    start = threading.Barrier(RACERS)
    answers: list[requests.Response] = []

    def guess(index: int) -> None:
        browser, token = browsers[index]
        password = PASSWORD if index == RACERS // 2 else f"wrong guess {index}"
        form = {"csrf_token": token, "name": name, "password": password, "next": ""}
        start.wait()
        answers.append(browser.post(f"{bridge.url}/console/sign-in", data=form, allow_redirects=False, timeout=60))

    threads = [threading.Thread(target=guess, args=(index,)) for index in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


@BOTH_DATABASES
@pytest.mark.parametrize("name", ["olivia", "nobody"])
def test_guesses_sent_together_reach_the_password_check_at_most_five_times(bridge: RunningBridge, name: str):
    """Every answer but 429 came from an Argon2 check (401 wrong, 302 signed in); 429s are refused before it."""
    answers = race(bridge, name)
    statuses = Tally(answer.status_code for answer in answers)
    assert sum(statuses.values()) == RACERS and set(statuses) <= {302, 401, 429}, statuses
    assert statuses[401] + statuses[302] <= CHECKS_PER_NAME, statuses
    throttled = [answer for answer in answers if answer.status_code == 429]
    assert all(0 < int(answer.headers["Retry-After"]) <= 31 for answer in throttled)
    assert all("Too many failed sign-ins" in answer.text for answer in throttled)
    if name == "olivia":
        assert bridge.records.sign_in_failures.of("olivia").count <= CHECKS_PER_NAME


@BOTH_DATABASES
def test_one_atomic_step_hands_out_exactly_the_places_the_rule_allows(engine: Engine):
    """The storage step alone, without Argon2's pace to hide a race: 41 attempts at once, five places."""
    failures = SignInFailures(engine)
    counters = [Counter("olivia", BY_NAME), Counter("@" + FLOODER, BY_CLIENT)]
    start = threading.Barrier(RACERS)
    results: list[list[int] | Refused] = []

    def attempt() -> None:
        start.wait()
        results.append(failures.take_places(counters, 1000.0))

    threads = [threading.Thread(target=attempt) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    places = sorted(result[0] for result in results if not isinstance(result, Refused))
    assert places == list(range(1, CHECKS_PER_NAME + 1))
    refused = [result for result in results if isinstance(result, Refused)]
    assert len(refused) == RACERS - CHECKS_PER_NAME
    assert {(result.counter.key, result.wait_seconds) for result in refused} == {("olivia", 30.0)}
    # A refused attempt took no place anywhere: the address counted only the five that went ahead.
    assert failures.of("olivia").count == failures.of("@" + FLOODER).count == CHECKS_PER_NAME


@BOTH_DATABASES
def test_a_count_left_alone_long_enough_starts_again_from_one(engine: Engine):
    failures = SignInFailures(engine)
    name = [Counter("olivia", BY_NAME)]
    assert [failures.take_places(name, 1000.0) for _ in range(CHECKS_PER_NAME)] == [[n] for n in range(1, 6)]
    assert failures.take_places(name, 1029.0) == Refused(name[0], 1.0)
    assert failures.take_places(name, 1030.0) == [6]  # the wait ran out: one more, which doubles it
    assert isinstance(failures.take_places(name, 1030.0 + 59), Refused)
    assert failures.take_places(name, 1030.0 + 24 * 3600) == [1]  # a quiet day: forgotten
    address = [Counter("@" + FLOODER, BY_CLIENT)]
    for _ in range(CHECKS_PER_CLIENT):
        failures.take_places(address, 5000.0)
    assert failures.take_places(address, 5000.0 + 899) == Refused(address[0], 1.0)
    assert failures.take_places(address, 5000.0 + 900) == [1]  # a new window


def test_an_address_that_floods_is_stopped_and_holds_up_nobody_elsewhere(bridge: RunningBridge):
    client = bridge.app.test_client()
    # A few guesses for each of many names: the per-name count never stops them, the address's does.
    answers = [sign_in(client, f"name{index}", "a guess", FLOODER).status_code for index in range(CHECKS_PER_CLIENT)]
    assert answers == [401] * CHECKS_PER_CLIENT
    refused = sign_in(client, "yet-another-name", "a guess", FLOODER)
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 15 * 60 + 1
    assert sign_in(client, "olivia", PASSWORD, FLOODER).status_code == 429  # the address waits, whoever types
    assert sign_in(bridge.app.test_client(), "olivia", PASSWORD, OPERATOR_DESK).status_code == 302


def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(start_bridge: Callable[..., RunningBridge]):
    bridge = start_bridge(BRIDGE_TRUSTED_PROXIES=PROXY)
    bridge.parts.accounts.create_user("olivia", PASSWORD, "operator", None)
    client = bridge.app.test_client()
    # Straight from the internet, a header naming a new address each time changes nothing: counted as the peer.
    spoofing = [
        sign_in(client, f"name{index}", "a guess", "198.51.100.99", forwarded_for=f"192.0.2.{index}").status_code
        for index in range(CHECKS_PER_CLIENT + 1)
    ]
    assert spoofing == [401] * CHECKS_PER_CLIENT + [429]
    # Through the proxy, each client is its own: one that floods waits, an operator elsewhere signs in.
    via_proxy = [
        sign_in(client, f"name{index}", "a guess", PROXY, forwarded_for=f"1.2.3.4, {FLOODER}").status_code
        for index in range(CHECKS_PER_CLIENT + 1)
    ]
    assert via_proxy == [401] * CHECKS_PER_CLIENT + [429]  # the client's own "1.2.3.4" was not believed either
    assert sign_in(client, "olivia", PASSWORD, PROXY, forwarded_for=OPERATOR_DESK).status_code == 302


def test_a_name_no_account_has_is_neither_logged_nor_kept(bridge: RunningBridge, caplog: pytest.LogCaptureFixture):
    """What is typed as a name may be a password typed into the wrong field."""
    typed = "Hunter2-the-password"
    client = bridge.app.test_client()
    with caplog.at_level(logging.INFO, logger="bridge.console"):
        assert sign_in(client, typed, "a guess", FLOODER).status_code == 401
        assert sign_in(client, "olivia", "a wrong password", FLOODER).status_code == 401
        for _ in range(CHECKS_PER_NAME):
            sign_in(client, typed, "a guess", OPERATOR_DESK)
    lines = [(record.getMessage(), record.__dict__.get("user")) for record in caplog.records]
    assert ("sign-in failed", "unknown name") in lines and ("sign-in failed", "olivia") in lines
    assert ("sign-in refused: must wait", "unknown name") in lines  # throttled like any name, and still unnamed
    assert typed.lower() not in caplog.text.lower()
    with bridge.records.engine.connect() as connection:
        kept = [str(value) for row in connection.execute(select(sign_in_failures)) for value in row]
    assert kept and not any(typed.lower() in value.lower() for value in kept)
    assert bridge.records.sign_in_failures.of("olivia").count == 1  # an account's own name is kept as it is


def test_counts_nobody_remembers_are_dropped_at_the_next_failure(bridge: RunningBridge):
    now = time.time()
    with bridge.records.engine.begin() as connection:
        connection.execute(
            insert(sign_in_failures),
            [
                {"name": "typed two days ago", "failures": 3, "last_failed_at": now - 2 * 24 * 3600},
                {"name": "typed an hour ago", "failures": 3, "last_failed_at": now - 3600},
            ],
        )
    assert sign_in(bridge.app.test_client(), "nobody", "a guess", FLOODER).status_code == 401
    left = bridge.records.sign_in_failures.counts()
    assert "typed two days ago" not in left and left["typed an hour ago"] == 3


def test_an_attempt_that_finds_no_hashing_slot_is_not_counted(database_url: str, engine: Engine):
    storage = build_storage(database_url)
    build_accounts(storage).create_user("olivia", PASSWORD, "operator", None)
    hashing = HashingThreads(slots=1, wait_seconds=0.0)
    accounts = Accounts(storage.users, storage.sign_in_failures, unknown_names_key(None), hashing=hashing)
    held, release = threading.Event(), threading.Event()

    def hold_the_only_slot() -> None:
        held.set()
        release.wait(timeout=30)

    holder = threading.Thread(target=hashing.run, args=(hold_the_only_slot,))
    holder.start()
    try:
        assert held.wait(timeout=30)
        assert accounts.sign_in("olivia", PASSWORD, FLOODER).outcome is SignInOutcome.BUSY
    finally:
        release.set()
        holder.join()
    assert storage.sign_in_failures.of("olivia").count == 0
    assert storage.sign_in_failures.of("@" + FLOODER).count == 0
    assert accounts.sign_in("olivia", PASSWORD, FLOODER).outcome is SignInOutcome.SIGNED_IN
    storage.engine.dispose()
