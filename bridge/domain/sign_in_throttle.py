"""How long a console account must wait before its next sign-in, after wrong passwords.

Four mistakes cost nothing (typos happen); from the fifth on, each failure doubles the wait, up to fifteen minutes,
which turns an online guess at a password into years of work. A correct password resets the count.
"""

from __future__ import annotations

FREE_FAILURES = 4
FIRST_WAIT_SECONDS = 30.0
LONGEST_WAIT_SECONDS = 15 * 60.0


def wait_after(failures: int) -> float:
    """Seconds an account must wait after its last failure, given how many failures came in a row."""
    if failures <= FREE_FAILURES:
        return 0.0
    return min(FIRST_WAIT_SECONDS * 2 ** (failures - FREE_FAILURES - 1), LONGEST_WAIT_SECONDS)


def seconds_to_wait(failures: int, last_failed_at: float | None, now: float) -> float:
    """How long from ``now`` until the account may try again (0: it may)."""
    if last_failed_at is None:
        return 0.0
    return max(0.0, last_failed_at + wait_after(failures) - now)
