"""How long a sign-in must wait after wrong passwords: per name signed in with, and per client address.

Per name: four mistakes cost nothing (typos happen); from the fifth on, each failure doubles the wait, up to fifteen
minutes, which turns an online guess at a password into years of work. A correct password resets the count, and a
name left alone for a day starts again from nothing (so that its record can be dropped).

Per client address: twenty failures per fifteen minutes, whatever names they tried, so that one address spraying a
few guesses over many names is stopped too; the count is the address's own, so a flood from one address never holds
up an operator signing in from another.

Counts are taken before the password is checked (``bridge.services.sign_in``), so an attempt still being checked
already counts, and ``seconds_to_wait`` of a count says whether one more attempt may go ahead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

IPNetwork = IPv4Network | IPv6Network
LOOPBACK: tuple[IPNetwork, ...] = (IPv4Network("127.0.0.1/32"), IPv6Network("::1/128"))
IPV6_CLIENT_PREFIX = 64  # one host holds a whole /64: counted per address, it would have 2**64 fresh counts


@dataclass(frozen=True)
class ThrottleRule:
    """Failures in a row that cost nothing, the wait after more (doubling from the first to the longest), and how
    long a counter must stay quiet to be forgotten (at least the longest wait, or a wait would be cut short)."""

    per: str  # what it counts, as the log names it
    free_failures: int
    first_wait_seconds: float
    longest_wait_seconds: float
    forget_after_seconds: float

    def wait_after(self, failures: int) -> float:
        """Seconds to wait after the last failure, given how many failures came in a row."""
        if failures <= self.free_failures:
            return 0.0
        doublings = min(failures - self.free_failures - 1, 64)  # the cap is reached long before; no float overflow
        return min(self.first_wait_seconds * 2**doublings, self.longest_wait_seconds)

    def seconds_to_wait(self, failures: int, last_failed_at: float | None, now: float) -> float:
        """How long from ``now`` until one more attempt may go ahead (0: it may)."""
        if last_failed_at is None or now - last_failed_at >= self.forget_after_seconds:
            return 0.0
        return max(0.0, last_failed_at + self.wait_after(failures) - now)

    def rising_waits(self) -> list[tuple[int, float]]:
        """Each count whose wait is still below the longest, with that wait: the rule as a table, for a database
        to decide with (every larger count waits the longest)."""
        steps = []
        failures = self.free_failures + 1
        while (wait := self.wait_after(failures)) < self.longest_wait_seconds:
            steps.append((failures, wait))
            failures += 1
        return steps


BY_NAME = ThrottleRule("name", free_failures=4, first_wait_seconds=30.0, longest_wait_seconds=15 * 60.0,
                       forget_after_seconds=24 * 3600.0)  # fmt: skip
BY_CLIENT = ThrottleRule("client address", free_failures=19, first_wait_seconds=15 * 60.0,
                         longest_wait_seconds=15 * 60.0, forget_after_seconds=15 * 60.0)  # fmt: skip
RULES = (BY_NAME, BY_CLIENT)
FORGOTTEN_AFTER_SECONDS = max(rule.forget_after_seconds for rule in RULES)  # what no rule remembers any more


def client_address(remote_addr: str, forwarded_for: str, trusted_proxies: Sequence[IPNetwork]) -> str:
    """Who a sign-in is counted against: the peer gunicorn reports (``REMOTE_ADDR``), or, while that is a trusted
    proxy, the hop it says it forwarded for (``X-Forwarded-For``, read from the right: each proxy appends the
    address it saw, so only the entries trusted proxies wrote can be believed; anything left of them is whatever the
    client chose to send). IPv6 addresses count per /64."""
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    client = _parsed(remote_addr)
    while client is not None and hops and any(client in network for network in trusted_proxies):
        forwarded = _parsed(hops.pop())
        if forwarded is None:
            break  # not an address: stay with the proxy that passed it on
        client = forwarded
    if client is None:
        return remote_addr[:63] or "unknown"
    if isinstance(client, IPv6Address):
        return str(IPv6Network((client, IPV6_CLIENT_PREFIX), strict=False))
    return str(client)


def _parsed(text: str) -> IPv4Address | IPv6Address | None:
    try:
        address = ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
