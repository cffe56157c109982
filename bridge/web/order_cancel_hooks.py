"""Commerce's two hooks on ``OrderManagementInterface::cancel``.

``POST /webhooks/commerce/order-cancel`` is the ``before`` hook: it decides, within the hook's budget, whether
Commerce may go on. ``POST /webhooks/commerce/order-cancel-after`` is the ``after`` hook: Commerce says whether it
really canceled. Thin on purpose: authenticate, parse, hand over to CancelIntake, answer in Commerce's format
(always HTTP 200 with ``op`` once the caller is proven to be Commerce), log one line.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from flask import Blueprint, Response, abort, request
from marshmallow import Schema, ValidationError

from bridge.deadline import Deadline
from bridge.domain.messages import MessageKey, render
from bridge.errors import SignatureError
from bridge.metrics import WEBHOOK_DURATION, WEBHOOK_REQUESTS
from bridge.services.cancel_intake import AFTER_DECISIONS, BEFORE_DECISIONS, CancelAnswer
from bridge.storage.tables import COMMERCE_REQUEST_ID_LENGTH
from bridge.web.app_services import current_services, current_watchdog
from bridge.web.hook_schemas import AfterCancelPayload, BeforeCancelPayload, WebhookAnswer
from bridge.web.responses import json_error, json_response
from bridge.web.signature import SIGNATURE_HEADER, verify_secret, verify_signature
from bridge.web.watchdog import TimedOut

log = logging.getLogger("bridge.webhook")
blueprint = Blueprint("order_cancel_hooks", __name__)

REQUEST_ID_HEADER = "x-adobe-commerce-request-id"
MAX_BODY_BYTES = 64 * 1024  # Commerce's cancel payloads are tiny; anything near this is not Commerce
# Of the budget: the check's own calls give up this much before the end (so it answers with the precise reason),
# and the watchdog that much before (so a check stuck on the database is still answered, in time).
CHECK_MARGIN_SECONDS = 0.2
ANSWER_MARGIN_SECONDS = 0.05


# Every value of the decision label of bridge_webhook_requests_total, by hook (the install guide lists them).
_REFUSED_AT_THE_DOOR = ("unauthorized", "bad_request")
HOOK_DECISIONS: dict[str, tuple[str, ...]] = {
    "before": (*BEFORE_DECISIONS, "timeout", "crashed", *_REFUSED_AT_THE_DOOR),
    "after": (*AFTER_DECISIONS, "not_noted", *_REFUSED_AT_THE_DOOR),
}

# marshmallow schemas are reusable and thread-safe for load and dump: built once, not on every hook.
BEFORE_PAYLOAD, AFTER_PAYLOAD, ANSWER = BeforeCancelPayload(), AfterCancelPayload(), WebhookAnswer()


class BadRequest(Exception):
    """The body is not a payload of this hook; ``detail`` says why."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _commerce_request_id() -> str | None:
    value = request.headers.get(REQUEST_ID_HEADER)
    return value[:COMMERCE_REQUEST_ID_LENGTH] if value else None


def _authenticate_header() -> None:
    """The shared secret, when configured, is checked before the body is parsed or its signature verified (the body
    itself has been read already, within ``BRIDGE_REQUEST_BODY_SECONDS``: see ``body_deadline``)."""
    settings = current_services().settings
    if settings.webhook_secrets:
        header = settings.webhook_secret_header
        verify_secret(request.headers.get(header), settings.webhook_secrets, header)


def _read_body() -> bytes:
    """The raw body, refused with 413 past MAX_BODY_BYTES, declared length or chunked alike."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        abort(413)
    body = bytearray()
    while chunk := request.stream.read(8192):  # a chunked body past the cap raises 413 here, never truncates
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            abort(413)
    return bytes(body)


def _authenticate_body(body: bytes) -> None:
    public_keys = current_services().settings.webhook_public_keys
    if public_keys:
        verify_signature(body, request.headers.get(SIGNATURE_HEADER), public_keys)


def _parse(body: bytes, schema: Schema) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("the body is not JSON") from None
    except RecursionError:
        raise BadRequest("the body is nested too deeply to be a Commerce payload") from None
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise BadRequest(f"invalid payload: {exc.messages}") from None


def _observe(hook: str, decision: str, op: str, started: float) -> None:
    WEBHOOK_REQUESTS.labels(hook, decision, op).inc()
    WEBHOOK_DURATION.labels(hook).observe(time.monotonic() - started)


def _signed_payload(schema: Schema, hook: str, started: float) -> dict[str, Any] | Response:
    """The verified, parsed payload, or the 4xx answer that says what is wrong (nothing else happens)."""
    try:
        _authenticate_header()
        body = _read_body()
        _authenticate_body(body)
        return _parse(body, schema)
    except SignatureError as exc:
        log.warning("webhook refused", extra={"request_id": _commerce_request_id(), "reason": str(exc)})
        _observe(hook, "unauthorized", "none", started)
        return json_error(401, "unauthorized", str(exc))
    except BadRequest as exc:
        _observe(hook, "bad_request", "none", started)
        return json_error(400, "bad_request", exc.detail)


def _answer(op: str, message: str | None = None) -> Response:
    data = {"op": op} if message is None else {"op": op, "message": message}
    return json_response(ANSWER.dump(data), 200)


@blueprint.post("/webhooks/commerce/order-cancel")
def before_cancel() -> Response:
    started = time.monotonic()
    bridge = current_services()
    budget = bridge.settings.webhook_budget_ms / 1000
    payload = _signed_payload(BEFORE_PAYLOAD, "before", started)
    if isinstance(payload, Response):
        return payload
    entity_id, request_id = payload["id"], _commerce_request_id()
    left = budget - (time.monotonic() - started)
    deadline = Deadline(left - CHECK_MARGIN_SECONDS)
    try:
        answer = current_watchdog().run(
            lambda: bridge.intake.before_cancel(entity_id, request_id, deadline), left - ANSWER_MARGIN_SECONDS
        )
    except TimedOut:
        message = render(MessageKey.BRIDGE_UNAVAILABLE, bridge.settings.default_locale, order_ref=f"#{entity_id}")
        answer = CancelAnswer.stop("timeout", message)
    except Exception:  # a fault of the bridge itself still answers Commerce, and closed
        log.exception("cancel check crashed", extra={"commerce_entity_id": entity_id})
        message = render(MessageKey.BRIDGE_UNAVAILABLE, bridge.settings.default_locale, order_ref=f"#{entity_id}")
        answer = CancelAnswer.stop("crashed", message)
    log.info(
        "order cancel webhook",
        extra={
            "hook": "before",
            "request_id": request_id,
            "commerce_entity_id": entity_id,
            "increment_id": answer.increment_id,
            "amazon_order_id": answer.amazon_order_id,
            "store": answer.store_code,
            "amazon_status": answer.amazon_status,
            "decision": answer.decision,
            "op": answer.op,
            "latency_ms": round((time.monotonic() - started) * 1000, 1),
        },
    )
    _observe("before", answer.decision, answer.op, started)
    return _answer(answer.op, answer.message)


@blueprint.post("/webhooks/commerce/order-cancel-after")
def after_cancel() -> Response:
    """Commerce says it canceled (``result`` true) or refused (false). Its cancel cannot be undone from here, so the
    answer is always ``success``. A claimed cancel only makes the worker read the order back at once: nothing goes to
    Amazon until Commerce's data shows the order canceled. Where the bridge could not note the result, the worker
    reads the order back on its own schedule instead."""
    started = time.monotonic()
    bridge = current_services()
    payload = _signed_payload(AFTER_PAYLOAD, "after", started)
    if isinstance(payload, Response):
        return payload
    entity_id, canceled = payload["id"], payload["result"]
    try:
        outcome = current_watchdog().run(
            lambda: bridge.intake.after_cancel(entity_id, canceled), bridge.settings.webhook_budget_ms / 1000
        )
    except TimedOut:
        outcome = "not_noted"
    except Exception:
        log.exception("after hook could not be noted", extra={"commerce_entity_id": entity_id})
        outcome = "not_noted"
    log.info(
        "order cancel webhook",
        extra={
            "hook": "after",
            "request_id": _commerce_request_id(),
            "commerce_entity_id": entity_id,
            "canceled_in_commerce": canceled,
            "decision": outcome,
            "latency_ms": round((time.monotonic() - started) * 1000, 1),
        },
    )
    _observe("after", outcome, "success", started)
    return _answer("success")
