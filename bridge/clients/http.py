"""What the three HTTP clients (Commerce, Login with Amazon, SP-API) share: sending one call, with a failure to
send named the same way everywhere, and one retry loop, bounded by the caller's deadline."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar

import requests

from bridge.deadline import Deadline
from bridge.errors import UpstreamError, UpstreamUnavailable

T = TypeVar("T")


class SendFailed(UpstreamUnavailable):
    """No answer came back: ``kind`` is ``timeout``, ``no_connection`` or ``not_sent``."""

    def __init__(self, service: str, message: str, kind: str) -> None:
        super().__init__(service, message)
        self.kind = kind


def send(
    session: requests.Session, method: str, url: str, *, service: str, what: str, timeout: float, **kwargs: Any
) -> requests.Response:
    """One request; whatever keeps it from being answered becomes SendFailed, naming ``what`` was being done.

    The library's own message is never echoed: it may quote a header, and headers carry tokens.
    """
    try:
        return session.request(method, url, timeout=timeout, **kwargs)
    except requests.Timeout:
        raise SendFailed(service, f"{what} timed out", "timeout") from None
    except requests.ConnectionError:
        raise SendFailed(service, f"{what}: cannot connect", "no_connection") from None
    except (requests.RequestException, ValueError) as exc:
        raise SendFailed(service, f"request could not be sent ({exc.__class__.__name__})", "not_sent") from None


class Retry(Enum):
    NOW = "now"  # what went wrong is already dealt with (a refused token dropped, an emptied quota bucket)
    AFTER_BACKOFF = "after_backoff"  # a transient fault: wait a little first


def retry_transient(exc: UpstreamError, attempt: int) -> Retry | None:
    """The common rule: timeouts, connection errors and 5xx are worth another try, after a pause."""
    return Retry.AFTER_BACKOFF if isinstance(exc, UpstreamUnavailable) else None


def with_retries(
    once: Callable[[], T],
    deadline: Deadline,
    *,
    max_attempts: int,
    reserve: float,
    retry: Callable[[UpstreamError, int], Retry | None] = retry_transient,
) -> T:
    """``once()`` until it answers, ``retry`` says no, ``max_attempts`` are spent, or the deadline leaves no room for
    a pause and ``reserve`` seconds more."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return once()
        except UpstreamError as exc:
            how = retry(exc, attempt)
            if how is None or attempt >= max_attempts:
                raise
            if how is Retry.AFTER_BACKOFF and not _sleep_before_retry(attempt, deadline, reserve):
                raise


def _backoff_delay(attempt: int, base: float = 0.1, cap: float = 5.0) -> float:
    """Full-jitter delay before retry number ``attempt`` (1-based)."""
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1)))  # noqa: S311 - jitter, not crypto


def _sleep_before_retry(attempt: int, deadline: Deadline, reserve: float) -> bool:
    delay = _backoff_delay(attempt)
    if deadline.remaining() < delay + reserve:
        return False
    time.sleep(delay)
    return True
