"""One typed error hierarchy for everything the bridge can fail at.

Callers catch the family they can act on (a fault worth retrying, a caller's bad input, a setting to fix)
instead of parsing messages. No error message ever carries a secret's value.
"""

from __future__ import annotations

from typing import Any


class BridgeError(Exception):
    """Base of every error the bridge raises on purpose."""


class ConfigError(BridgeError):
    """The settings are missing or malformed; ``problems`` lists every one of them."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))


class UsageError(BridgeError):
    """A command's arguments cannot be used; the message says what they take."""


class SignatureError(BridgeError):
    """A webhook request could not be proven to come from Commerce."""


class UpstreamError(BridgeError):
    """A call to Commerce, LWA or SP-API did not give a usable answer."""

    def __init__(
        self,
        service: str,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.service = service
        self.status = status
        self.code = code
        self.request_id = request_id
        detail = ", ".join(
            part
            for part in (
                f"HTTP {status}" if status else "",
                f"code {code}" if code else "",
                f"request id {request_id}" if request_id else "",
            )
            if part
        )
        super().__init__(f"{service}: {message}" + (f" ({detail})" if detail else ""))


class UpstreamUnavailable(UpstreamError):
    """Transient: timeouts, connection errors, 5xx. Worth retrying later."""


class QuotaExhausted(UpstreamUnavailable):
    """No request token is available in time (locally, or Amazon answered 429); ``retry_after``: seconds until the
    next one, where the bridge's own bucket knows it."""

    def __init__(self, service: str, message: str, *, retry_after: float | None = None, **details: Any) -> None:
        super().__init__(service, message, **details)
        self.retry_after = retry_after


class UpstreamRejected(UpstreamError):
    """The upstream refused the request (4xx other than 429): retrying as is will not help."""


class NotFound(UpstreamRejected):
    """The upstream says the resource does not exist."""


class DeadlineExceeded(UpstreamUnavailable):
    """The time the caller allowed ran out before an answer came."""
