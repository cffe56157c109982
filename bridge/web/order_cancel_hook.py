"""``POST /webhooks/commerce/order-cancel``: the ``before`` hook on ``OrderManagementInterface::cancel``.

Thin on purpose: authenticate, parse, hand over to CancelIntake, answer in Commerce's format, log one line.
"""

from __future__ import annotations

import json
import logging
import time

from flask import Blueprint, Response, request
from marshmallow import ValidationError

from bridge.clients.deadline import Deadline
from bridge.errors import SignatureError
from bridge.web.context import current_bridge
from bridge.web.responses import json_error, json_response
from bridge.web.schemas import OrderCancelPayload, WebhookAnswer
from bridge.web.signature import SIGNATURE_HEADER, verify_secret, verify_signature

log = logging.getLogger("bridge.webhook")
blueprint = Blueprint("order_cancel", __name__)

REQUEST_ID_HEADER = "x-adobe-commerce-request-id"


def authenticate(body: bytes) -> None:
    """Raise SignatureError unless every configured proof (RSA signature, shared secret) holds."""
    settings = current_bridge().settings
    if settings.webhook_public_key is not None:
        verify_signature(body, request.headers.get(SIGNATURE_HEADER), settings.webhook_public_key)
    if settings.webhook_secret is not None:
        verify_secret(
            request.headers.get(settings.webhook_secret_header),
            settings.webhook_secret,
            settings.webhook_secret_header,
        )


@blueprint.post("/webhooks/commerce/order-cancel")
def order_cancel() -> Response:
    started = time.monotonic()
    settings = current_bridge().settings
    deadline = Deadline(settings.webhook_budget_ms / 1000)
    commerce_request_id = request.headers.get(REQUEST_ID_HEADER)
    body = request.get_data(cache=False)  # raises 413 past MAX_CONTENT_LENGTH

    try:
        authenticate(body)
    except SignatureError as exc:
        log.warning("webhook refused", extra={"request_id": commerce_request_id, "reason": str(exc)})
        return json_error(401, "unauthorized", str(exc))
    try:
        payload = OrderCancelPayload().load(json.loads(body))
    except (ValueError, UnicodeDecodeError):
        return json_error(400, "bad_request", "the body is not JSON")
    except ValidationError as exc:
        return json_error(400, "bad_request", f"invalid payload: {exc.messages}")

    answer = current_bridge().intake.handle(payload["id"], commerce_request_id, deadline)
    log.info(
        "order cancel webhook",
        extra={
            "request_id": commerce_request_id,
            "commerce_entity_id": payload["id"],
            "increment_id": answer.increment_id,
            "amazon_order_id": answer.amazon_order_id,
            "store": answer.store_code,
            "amazon_status": answer.amazon_status,
            "decision": answer.decision,
            "op": answer.op,
            "latency_ms": round((time.monotonic() - started) * 1000, 1),
        },
    )
    data = {"op": answer.op} if answer.message is None else {"op": answer.op, "message": answer.message}
    return json_response(WebhookAnswer().dump(data), 200)
