"""Selling Partner API transport: LWA tokens, the seller's shared quotas, retries, Amazon's error envelope."""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol
from urllib.parse import quote

import requests
from marshmallow import EXCLUDE, Schema, ValidationError

from bridge.clients.http import Retry, send, with_retries
from bridge.clients.lwa import LwaTokenSource
from bridge.clients.spapi_operations import REGION_HOSTS, Operation
from bridge.deadline import Deadline
from bridge.domain.stores import Store
from bridge.errors import NotFound, QuotaExhausted, UpstreamError, UpstreamRejected, UpstreamUnavailable
from bridge.metrics import SPAPI_CALLS, SPAPI_THROTTLED

log = logging.getLogger(__name__)

SERVICE = "Amazon SP-API"


class AmazonAnswer(Schema):
    """Base of the schemas Amazon's answers are read with: fields Amazon adds later are ignored, not refused."""

    class Meta:
        unknown = EXCLUDE


def load_answer(schema: Schema, body: Any, what: str) -> dict[str, Any]:
    """``body`` read with ``schema``; an answer that does not fit is Amazon misbehaving for now (retried later)."""
    try:
        return schema.load(body)
    except ValidationError as exc:
        raise UpstreamUnavailable(SERVICE, f"{what}: malformed answer {exc.messages}") from None


# Grantless operations (the Notifications API's destinations) are the application's, not a seller's: their quota
# bucket is kept under this name instead of a seller id.
APPLICATION_QUOTA_KEY = "application"
CALL_TIMEOUT = 15.0
MAX_ATTEMPTS = 3


def _amazon_error(response: requests.Response) -> tuple[str | None, str]:
    """Code and message from Amazon's ``{"errors":[{"code","message","details"}]}`` envelope."""
    try:
        errors = response.json().get("errors") or []
        first = errors[0]
        return first.get("code"), first.get("message") or "no message"
    except (ValueError, AttributeError, IndexError, TypeError):
        return None, response.reason or "no message"


class Quotas(Protocol):
    """The seller's quotas, shared by every process (the bridge keeps them in its database)."""

    def acquire(self, seller_id: str, operation: str, max_wait: float) -> None:
        """Wait up to ``max_wait`` s for a request token; QuotaExhausted if none comes in time."""

    def drain(self, seller_id: str, operation: str) -> None:
        """Amazon answered 429: the bucket is empty, whatever it held."""

    def observe_rate(self, seller_id: str, operation: str, rate: float) -> bool:
        """Amazon's ``x-amzn-RateLimit-Limit``: the rate to keep to from now on; False if it is not a usable one."""


class SpApiClient:
    def __init__(
        self,
        tokens: LwaTokenSource,
        limiter: Quotas,
        endpoint_override: str | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self._tokens = tokens
        self._limiter = limiter
        self._endpoint_override = endpoint_override
        self._session = session or requests.Session()

    def _host(self, store: Store) -> str:
        return self._endpoint_override or REGION_HOSTS[store.region]

    def call(
        self,
        store: Store,
        operation: Operation,
        deadline: Deadline,
        *,
        path_params: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
        idempotent: bool = True,
        grantless_scope: str | None = None,
    ) -> Any:
        """One operation, inside the quota, retried on 429 and (when ``idempotent``) on 5xx and timeouts.

        A non-idempotent call (createFeed) is never repeated after an ambiguous failure: Amazon may have acted on
        it, and the caller must find out before trying again. With ``grantless_scope`` the call is the
        application's own (an LWA ``client_credentials`` token of that scope; ``store`` only picks the region).
        """
        path = operation.path.format(**{k: quote(v, safe="") for k, v in (path_params or {}).items()})
        quota_key = APPLICATION_QUOTA_KEY if grantless_scope else store.seller_id

        def once() -> Any:
            self._limiter.acquire(quota_key, operation.name, max_wait=max(0.0, deadline.remaining() - 0.2))
            return self._send(store, operation, path, deadline, params, json_body, grantless_scope)

        def retry(exc: UpstreamError, attempt: int) -> Retry | None:
            if isinstance(exc, QuotaExhausted):  # 429: Amazon's bucket is empty; a local refusal is final
                if exc.status != 429:
                    return None
                self._limiter.drain(quota_key, operation.name)
                return Retry.NOW
            if isinstance(exc, UpstreamUnavailable):
                return Retry.AFTER_BACKOFF if idempotent else None
            if exc.status == 403 and attempt == 1:  # an expired token: exchange once more
                if grantless_scope:
                    self._tokens.forget_grantless(grantless_scope)
                else:
                    self._tokens.forget(store.refresh_token)
                return Retry.NOW
            return None

        return with_retries(once, deadline, max_attempts=MAX_ATTEMPTS, reserve=0.3, retry=retry)

    def _observe_rate_limit(self, quota_key: str, operation: Operation, response: requests.Response) -> None:
        limit = response.headers.get("x-amzn-RateLimit-Limit")
        if not limit:
            return
        try:
            accepted = self._limiter.observe_rate(quota_key, operation.name, float(limit))
        except ValueError:
            accepted = False
        if not accepted:  # best-effort header: a value that is not a positive rate is Amazon's slip, not a quota
            log.warning("x-amzn-RateLimit-Limit ignored", extra={"operation": operation.name, "value": limit[:40]})

    def _send(
        self,
        store: Store,
        operation: Operation,
        path: str,
        deadline: Deadline,
        params: dict[str, str] | None,
        json_body: dict[str, Any] | None,
        grantless_scope: str | None = None,
    ) -> Any:
        access_token = (
            self._tokens.grantless_token(grantless_scope, deadline)
            if grantless_scope
            else self._tokens.access_token(store.refresh_token, deadline)
        )
        started = time.monotonic()
        SPAPI_CALLS.labels(operation.name).inc()
        response = send(
            self._session,
            operation.method,
            self._host(store) + path,
            service=SERVICE,
            what=operation.name,
            timeout=deadline.timeout(CALL_TIMEOUT, SERVICE),
            params=params,
            json=json_body,
            headers={"x-amz-access-token": access_token, "Accept": "application/json"},
        )
        request_id = response.headers.get("x-amzn-RequestId")
        log.info(
            "spapi call",
            extra={
                "operation": operation.name,
                "seller_id": store.seller_id,
                "status": response.status_code,
                "amzn_request_id": request_id,
                "latency_ms": round((time.monotonic() - started) * 1000, 1),
            },
        )
        if response.status_code < 300:
            self._observe_rate_limit(APPLICATION_QUOTA_KEY if grantless_scope else store.seller_id, operation, response)
            try:
                return response.json()
            except ValueError:
                raise UpstreamUnavailable(SERVICE, f"{operation.name}: invalid JSON", request_id=request_id) from None
        code, message = _amazon_error(response)
        kwargs = {"status": response.status_code, "code": code, "request_id": request_id}
        if response.status_code == 429:
            SPAPI_THROTTLED.labels(operation.name).inc()
            raise QuotaExhausted(SERVICE, f"{operation.name}: {message}", **kwargs)
        if response.status_code >= 500:
            raise UpstreamUnavailable(SERVICE, f"{operation.name}: {message}", **kwargs)
        if response.status_code == 404:
            raise NotFound(SERVICE, f"{operation.name}: {message}", **kwargs)
        raise UpstreamRejected(SERVICE, f"{operation.name}: {message}", **kwargs)
