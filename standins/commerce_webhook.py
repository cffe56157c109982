"""Calls a webhook exactly as Adobe Commerce's webhooks module does.

PHP-style compact JSON, ``x-adobe-commerce-request-id``, and ``x-adobe-commerce-webhook-signature`` = base64 of an
RSA PKCS#1 v1.5 SHA-256 signature over the base64 of the body (the module's code signs with RSA, although its
docs say HMAC); plus the optional secret header from webhooks.xml. Commerce does not retry, and anything but
HTTP 200 with a valid ``op`` counts as a failure.
"""

from __future__ import annotations

import base64
import http.client
import json
import queue
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from standins.php_json import php_json_encode

SIGNATURE_HEADER = "x-adobe-commerce-webhook-signature"
REQUEST_ID_HEADER = "x-adobe-commerce-request-id"


def commerce_signature(body: bytes, private_key: RSAPrivateKey) -> str:
    """The header value Commerce sends: base64 of the RSA signature of base64(body)."""
    signature = private_key.sign(base64.b64encode(body), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


@dataclass(frozen=True)
class HookResult:
    """What Commerce makes of one hook call: go on, or stop with the message the admin sees."""

    proceed: bool
    message: str | None
    http_status: int | None


@dataclass(frozen=True)
class HookCall:
    """One hook call as sent and as answered (what a test needs to replay it, byte for byte)."""

    url: str
    body: bytes
    headers: dict[str, str]
    status_code: int
    answer: bytes

    def json(self) -> Any:
        return json.loads(self.answer)


class HookUnreachable(Exception):
    """The hook did not answer: no connection, or no answer within the hook's timeout."""


class StaleConnection(HookUnreachable):
    """The server had closed the connection before this request: nothing of it reached the server."""


# What a kept-alive connection the server has already closed fails with, before any answer.
STALE_CONNECTION = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


class ConnectionPool:
    """Kept-alive HTTP connections, one in use per thread at a time, per host."""

    def __init__(self) -> None:
        self._idle: dict[tuple[str, int], queue.LifoQueue[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, bytes]:
        parts = urlsplit(url)
        key = (parts.hostname or "127.0.0.1", parts.port or 80)
        with self._lock:
            idle = self._idle.setdefault(key, queue.LifoQueue())
        try:
            connection, reused = idle.get_nowait(), True
        except queue.Empty:
            connection, reused = http.client.HTTPConnection(*key), False
        try:
            status, answer = self._exchange(connection, parts.path or "/", body, headers, timeout)
        except StaleConnection:
            if not reused:
                raise
            # The server closed a kept-alive connection while it sat idle (gunicorn does after its keepalive):
            # like curl, send once more on a new connection.
            connection = http.client.HTTPConnection(*key)
            status, answer = self._exchange(connection, parts.path or "/", body, headers, timeout)
        idle.put(connection)
        return status, answer

    @staticmethod
    def _exchange(
        connection: http.client.HTTPConnection, path: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> tuple[int, bytes]:
        connection.timeout = timeout
        if connection.sock is not None:
            connection.sock.settimeout(timeout)
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            failure = StaleConnection if isinstance(exc, STALE_CONNECTION) else HookUnreachable
            raise failure(f"{exc.__class__.__name__}: {exc}") from None


@dataclass
class CommerceWebhook:
    """The hooks Commerce calls around ``OrderManagementInterface::cancel``: ``url`` before, ``after_url`` after."""

    url: str
    after_url: str | None = None
    private_key: RSAPrivateKey | None = None
    timeout: float = 5.0
    secret_header: tuple[str, str] | None = None
    required: bool = True
    fallback_error_message: str = "The order cannot be canceled right now. Please try again later."
    # Commerce's HTTP client (curl) keeps its connection to the hook's host open between calls, as this pool does;
    # it is lean too (http.client), so that benchmarks measure the bridge rather than the stand-in's own client.
    pool: ConnectionPool = field(default_factory=lambda: ConnectionPool(), repr=False)

    def post(self, payload: dict[str, object], url: str | None = None) -> HookCall:
        """One signed POST (to the before hook unless ``url`` says otherwise), as Commerce's webhook client sends it."""
        body = php_json_encode(payload)
        headers = {"Content-Type": "application/json", REQUEST_ID_HEADER: str(uuid.uuid4())}
        if self.private_key is not None:
            headers[SIGNATURE_HEADER] = commerce_signature(body, self.private_key)
        if self.secret_header is not None:
            headers[self.secret_header[0]] = self.secret_header[1]
        return self.send(url or self.url, body, headers)

    def send(self, url: str, body: bytes, headers: dict[str, str]) -> HookCall:
        """Exactly these bytes and headers (a replay, say); HookUnreachable when no answer came in time."""
        status, answer = self.pool.post(url, body, headers, self.timeout)
        return HookCall(url, body, headers, status, answer)

    def call_before_cancel(self, entity_id: int) -> HookResult:
        """The ``before`` hook on OrderManagementInterface::cancel, with Commerce's failure handling."""
        try:
            response = self.post({"subject": [], "id": str(entity_id)})
        except HookUnreachable:
            return self._failed(None)
        try:
            answer = response.json()
        except ValueError:
            return self._failed(response.status_code)
        if (
            response.status_code != 200
            or not isinstance(answer, dict)
            or answer.get("op") not in ("success", "exception")
        ):
            return self._failed(response.status_code)
        if answer["op"] == "exception":
            return HookResult(False, str(answer.get("message") or self.fallback_error_message), 200)
        return HookResult(True, None, 200)

    def call_after_cancel(self, entity_id: int, canceled: bool) -> None:
        """The ``after`` hook: it cannot undo the cancel, so Commerce only logs what goes wrong with it."""
        if self.after_url is None:
            return
        try:
            self.post({"subject": [], "result": canceled, "id": str(entity_id)}, self.after_url)
        except HookUnreachable:
            return

    def _failed(self, status: int | None) -> HookResult:
        if self.required:
            return HookResult(False, self.fallback_error_message, status)
        return HookResult(True, None, status)
