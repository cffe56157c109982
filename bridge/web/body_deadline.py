"""Every request body is read whole, within a deadline, before the app sees it.

Why: a client that declares a body and then sends it one byte every few seconds would otherwise hold its
connection, one of a worker's ``worker_connections``, for as long as it likes; a few thousand of them shut
Commerce's hooks out. The request head is bounded by gunicorn itself (its ``keepalive`` seconds, under the gevent
worker); the body is bounded here, so a slow client costs at most ``seconds`` of a connection slot, then gets 408.
Under gevent the deadline interrupts a read that waits (``gevent.Timeout``); without it (the development server,
the tests' threaded server) a slow client only holds its own thread, and the deadline is checked between reads.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from gevent import Timeout
from gevent.monkey import is_module_patched

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
CHUNK_BYTES = 8192


class BodyTooSlow(Exception):
    """The body did not arrive within the deadline."""


class BodyDeadline:
    """WSGI middleware: the body read within ``seconds`` (408 otherwise), at most ``max_bytes`` (413 past it)."""

    def __init__(self, app: WsgiApp, seconds: float, max_bytes: int) -> None:
        self._app = app
        self._seconds = seconds
        self._max_bytes = max_bytes

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        declared = _declared_length(environ)
        chunked = environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked"
        if (declared is None and not chunked) or declared == 0 or (declared or 0) > self._max_bytes:
            return self._app(environ, start_response)  # no body, or one the app refuses unread (413)
        try:
            body = self._read(environ["wsgi.input"], declared)
        except BodyTooSlow:
            return _refuse(start_response, "408 Request Timeout", "request_timeout",
                           f"the request body did not arrive within {self._seconds:g} s")  # fmt: skip
        if len(body) > self._max_bytes:
            return _refuse(start_response, "413 Request Entity Too Large", "request_entity_too_large",
                           f"the request body is larger than {self._max_bytes} bytes")  # fmt: skip
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self._app(environ, start_response)

    def _read(self, stream: Any, declared: int | None) -> bytes:
        """The declared length, or a chunked body up to one byte past the cap (so that a larger one is seen)."""
        wanted = declared if declared is not None else self._max_bytes + 1
        ends_at = time.monotonic() + self._seconds
        body = bytearray()
        with _interrupting(self._seconds):
            while len(body) < wanted:
                if time.monotonic() > ends_at:
                    raise BodyTooSlow
                chunk = stream.read(min(CHUNK_BYTES, wanted - len(body)))
                if not chunk:
                    break
                body += chunk
        return bytes(body)


def _interrupting(seconds: float) -> AbstractContextManager[Any]:
    """A deadline that interrupts a waiting read where the sockets are gevent's; else nothing to interrupt with."""
    if is_module_patched("socket"):
        return Timeout(seconds, BodyTooSlow)
    return nullcontext()


def _declared_length(environ: dict[str, Any]) -> int | None:
    raw = environ.get("CONTENT_LENGTH") or ""
    return int(raw) if raw.isascii() and raw.isdigit() else None


def _refuse(start_response: Callable[..., Any], status: str, error: str, message: str) -> list[bytes]:
    body = json.dumps({"error": error, "message": message}).encode()
    start_response(
        status,
        [("Content-Type", "application/json"), ("Content-Length", str(len(body))), ("Connection", "close")],
    )
    return [body]
