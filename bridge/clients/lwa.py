"""Login with Amazon: swaps a seller's refresh token for an SP-API access token, cached until a minute early."""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass

import requests

from bridge.clients.http import send
from bridge.deadline import Deadline
from bridge.errors import UpstreamRejected, UpstreamUnavailable

SERVICE = "Login with Amazon"
REFRESH_EARLY_SECONDS = 60.0
CALL_TIMEOUT = 10.0
GRANTLESS_PREFIX = "grantless:"  # cache keys of application tokens, apart from any refresh token's


@dataclass
class _CachedToken:
    value: str
    expires_at: float


class LwaTokenSource:
    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        session: requests.Session | None = None,
    ) -> None:
        self._token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._session = session or requests.Session()
        self._cache: dict[str, _CachedToken] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    @staticmethod
    def _key(refresh_token: str) -> str:
        # Index the cache by a digest so the refresh token itself is kept in as few places as possible.
        return hashlib.sha256(refresh_token.encode("utf-8")).hexdigest()

    def access_token(self, refresh_token: str, deadline: Deadline) -> str:
        """A valid access token for this seller; one exchange at a time per seller, however many threads ask."""
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return self._cached(self._key(refresh_token), form, deadline)

    def grantless_token(self, scope: str, deadline: Deadline) -> str:
        """A token of the application itself, for grantless operations (e.g. ``sellingpartnerapi::notifications``
        for the Notifications API's destinations): no seller, no refresh token."""
        form = {"grant_type": "client_credentials", "scope": scope}
        return self._cached(self._key(GRANTLESS_PREFIX + scope), form, deadline)

    def _cached(self, key: str, form: dict[str, str], deadline: Deadline) -> str:
        with self._locks_guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            cached = self._cache.get(key)
            if cached and cached.expires_at - REFRESH_EARLY_SECONDS > time.monotonic():
                return cached.value
            token = self._exchange(form, deadline)
            self._cache[key] = token
            return token.value

    def forget(self, refresh_token: str) -> None:
        """Drop a token Amazon refused (403 Unauthorized) so the next call exchanges afresh."""
        self._cache.pop(self._key(refresh_token), None)

    def forget_grantless(self, scope: str) -> None:
        self._cache.pop(self._key(GRANTLESS_PREFIX + scope), None)

    def _exchange(self, form: dict[str, str], deadline: Deadline) -> _CachedToken:
        started = time.monotonic()
        response = send(
            self._session,
            "POST",
            self._token_url,
            service=SERVICE,
            what="token exchange",
            timeout=deadline.timeout(CALL_TIMEOUT, SERVICE),
            data={**form, "client_id": self._client_id, "client_secret": self._client_secret},
            headers={"Accept": "application/json"},
        )
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code >= 500:
            raise UpstreamUnavailable(SERVICE, "token endpoint failed", status=response.status_code)
        if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
            code = body.get("error") if isinstance(body, dict) else None
            description = body.get("error_description") if isinstance(body, dict) else None
            raise UpstreamRejected(
                SERVICE,
                f"token exchange refused: {description or 'no description'}",
                status=response.status_code,
                code=str(code) if code else None,
            )
        expires_in = float(body.get("expires_in", 3600))
        return _CachedToken(value=str(body["access_token"]), expires_at=started + expires_in)
