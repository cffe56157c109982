"""The sign-in throttle as rules: per name, free typos, then a doubling wait, capped; per client address, a ceiling
per window; and which address a sign-in is counted against."""

from __future__ import annotations

import ipaddress
from itertools import pairwise

import pytest

from bridge.domain.sign_in_throttle import BY_CLIENT, BY_NAME, LOOPBACK, ThrottleRule, client_address

FREE_FAILURES = BY_NAME.free_failures


@pytest.mark.parametrize("failures", range(FREE_FAILURES + 1))
def test_the_first_mistakes_cost_nothing(failures: int) -> None:
    assert BY_NAME.wait_after(failures) == 0.0
    assert BY_NAME.seconds_to_wait(failures, last_failed_at=1000.0, now=1000.0) == 0.0


def test_from_the_fifth_mistake_each_one_doubles_the_wait_up_to_a_cap() -> None:
    waits = [BY_NAME.wait_after(failures) for failures in range(FREE_FAILURES + 1, FREE_FAILURES + 12)]
    assert waits[0] == 30.0 and waits[1] == 60.0 and waits[2] == 120.0
    assert all(later >= earlier for earlier, later in pairwise(waits))
    assert max(waits) == BY_NAME.longest_wait_seconds == 15 * 60.0
    assert BY_NAME.wait_after(10**6) == 15 * 60.0  # no overflow however long the run


def test_the_wait_runs_from_the_last_failure() -> None:
    assert BY_NAME.seconds_to_wait(5, last_failed_at=1000.0, now=1010.0) == 20.0
    assert BY_NAME.seconds_to_wait(5, last_failed_at=1000.0, now=1031.0) == 0.0
    assert BY_NAME.seconds_to_wait(9, last_failed_at=None, now=5.0) == 0.0


def test_a_count_is_forgotten_only_once_its_longest_wait_ran_out() -> None:
    """(The database restarts a forgotten count from one: tests/integration/test_sign_in_throttle.py.)"""
    assert BY_NAME.forget_after_seconds == 24 * 3600.0
    for rule in (BY_NAME, BY_CLIENT):
        assert rule.forget_after_seconds >= rule.longest_wait_seconds


def test_an_address_may_fail_twenty_times_then_waits_out_the_window() -> None:
    assert [BY_CLIENT.wait_after(failures) for failures in (0, 19, 20, 21, 500)] == [0.0, 0.0, 900.0, 900.0, 900.0]
    assert BY_CLIENT.seconds_to_wait(20, last_failed_at=1000.0, now=1100.0) == 800.0
    assert BY_CLIENT.seconds_to_wait(20, last_failed_at=1000.0, now=1900.0) == 0.0  # a fresh window


@pytest.mark.parametrize("rule", [BY_NAME, BY_CLIENT, ThrottleRule("test", 2, 1.0, 5.0, 5.0)], ids=str)
def test_the_rules_table_for_the_database_agrees_with_the_rule(rule: ThrottleRule) -> None:
    table = dict(rule.rising_waits())
    for failures in range(rule.free_failures + 1, rule.free_failures + 30):
        assert table.get(failures, rule.longest_wait_seconds) == rule.wait_after(failures)


PROXY = "10.0.0.7"
TRUSTED = (*LOOPBACK, ipaddress.ip_network(PROXY))


@pytest.mark.parametrize(
    ("remote_addr", "forwarded_for", "counted_as"),
    [
        ("198.51.100.7", "", "198.51.100.7"),
        ("198.51.100.7", "203.0.113.1", "198.51.100.7"),  # not a proxy we trust: its header is its own say-so
        (PROXY, "203.0.113.1", "203.0.113.1"),
        (PROXY, "1.2.3.4, 203.0.113.1", "203.0.113.1"),  # the client wrote 1.2.3.4 itself; the proxy added the rest
        ("127.0.0.1", f"203.0.113.1, {PROXY}", "203.0.113.1"),  # through two proxies we trust
        (PROXY, "", PROXY),
        (PROXY, "not-an-address", PROXY),
        ("::ffff:198.51.100.7", "", "198.51.100.7"),
        ("2001:db8:1:2:aaaa::1", "", "2001:db8:1:2::/64"),  # one host holds a whole /64
        ("2001:db8:1:2:bbbb::9", "", "2001:db8:1:2::/64"),
    ],
)
def test_the_client_is_the_peer_or_what_a_trusted_proxy_says(remote_addr, forwarded_for, counted_as) -> None:
    assert client_address(remote_addr, forwarded_for, TRUSTED) == counted_as


def test_with_no_trusted_proxy_the_header_is_never_read() -> None:
    assert client_address("127.0.0.1", "203.0.113.1", ()) == "127.0.0.1"
