"""Commerce (Magento) REST transport: where calls go, how they are signed, retried and counted, and what
Commerce's error answers mean. The endpoints the bridge uses are in ``commerce.py``."""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import quote

import requests
from requests.auth import AuthBase

from bridge.clients.http import SendFailed, send, with_retries
from bridge.deadline import Deadline
from bridge.errors import NotFound, UpstreamRejected, UpstreamUnavailable
from bridge.metrics import COMMERCE_CALLS

log = logging.getLogger(__name__)

SERVICE = "Commerce"
CALL_TIMEOUT = 10.0
MAX_ATTEMPTS = 3


def _outcome(status: int) -> str:
    """The label of bridge_commerce_calls_total for an answer."""
    if status >= 500:
        return "unavailable"
    if status == 404:
        return "not_found"
    return "rejected" if status >= 400 else "ok"


def _magento_message(response: requests.Response) -> str:
    """Magento errors are ``{"message": "...%1...", "parameters": [...]}``; fill the placeholders in."""
    try:
        body = response.json()
    except ValueError:
        return response.reason or "no error message"
    if not isinstance(body, dict):
        return "unexpected error body"
    message = str(body.get("message", "no error message"))
    params = body.get("parameters")
    if isinstance(params, list):
        for index, value in enumerate(params, start=1):
            message = message.replace(f"%{index}", str(value))
    elif isinstance(params, dict):
        for name, value in params.items():
            message = message.replace(f"%{name}", str(value))
    return message


class CommerceTransport:
    def __init__(
        self, base_url: str, auth: AuthBase, store_code: str | None = None, session: requests.Session | None = None
    ) -> None:
        prefix = f"/rest/{quote(store_code, safe='')}" if store_code else "/rest"
        self._api = f"{base_url.rstrip('/')}{prefix}/V1"
        self._all_stores_api = f"{base_url.rstrip('/')}/rest/all/V1"  # where Commerce lists its webhooks
        self._auth = auth
        self._session = session or requests.Session()

    def request(
        self,
        method: str,
        path: str,
        deadline: Deadline,
        *,
        params: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
        all_stores: bool = False,
    ) -> Any:
        """One call, retried on transient faults while the deadline allows (every call the bridge makes is
        idempotent). ``all_stores``: under ``/rest/all``, whatever store code the bridge calls through."""
        return with_retries(
            lambda: self.request_once(method, path, deadline, params, json_body, all_stores),
            deadline,
            max_attempts=MAX_ATTEMPTS,
            reserve=0.2,
        )

    def request_once(
        self,
        method: str,
        path: str,
        deadline: Deadline,
        params: dict[str, str] | None,
        json_body: dict[str, Any] | None,
        all_stores: bool = False,
    ) -> Any:
        started = time.monotonic()
        try:
            response = send(
                self._session,
                method,
                (self._all_stores_api if all_stores else self._api) + path,
                service=SERVICE,
                what=f"{method} {path}",
                timeout=deadline.timeout(CALL_TIMEOUT, SERVICE),
                params=params,
                json=json_body,
                auth=self._auth,
                headers={"Accept": "application/json"},
            )
        except SendFailed as exc:
            COMMERCE_CALLS.labels(exc.kind).inc()
            raise
        log.debug(
            "commerce call",
            extra={
                "method": method,
                "path": path,
                "status": response.status_code,
                "latency_ms": round((time.monotonic() - started) * 1000, 1),
            },
        )
        COMMERCE_CALLS.labels(_outcome(response.status_code)).inc()
        if response.status_code >= 500:
            raise UpstreamUnavailable(SERVICE, _magento_message(response), status=response.status_code)
        if response.status_code == 404:
            raise NotFound(SERVICE, _magento_message(response), status=404)
        if response.status_code >= 400:
            raise UpstreamRejected(SERVICE, _magento_message(response), status=response.status_code)
        try:
            return response.json()
        except ValueError:
            raise UpstreamUnavailable(SERVICE, f"{method} {path} answered with invalid JSON") from None
