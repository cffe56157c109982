"""The API for automation, under /api/v1 (token-authenticated).

Thin like the hooks: authenticate, parse, hand over to CancelIntake, answer. Every refusal is
``{"error": code, "message": text}``; a cancel the rule refuses carries the message the Commerce admin would read,
in the store's language. Whatever could not be checked (Commerce, Amazon, the database) is a 503 to retry, never a
cancel accepted unverified.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import asdict
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Response, g, request, url_for
from marshmallow import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from bridge.deadline import Deadline
from bridge.domain.cancel_rule import COMMERCE_REFUSALS
from bridge.domain.records import CancelRequest, RequestSearch
from bridge.domain.states import Source
from bridge.errors import QuotaExhausted, UpstreamError
from bridge.services.cancel_intake import BridgeCancelOutcome, OrderRef
from bridge.storage.idempotency_keys import StoredAnswer
from bridge.storage.rate_limiter import RateLimiter
from bridge.web.api_schemas import (
    CANCELS_PER_TOKEN,
    IDEMPOTENCY_KEY_HEADER,
    IDEMPOTENCY_KEY_PATTERN,
    REPLAYED_HEADER,
    RETRY_AFTER_SECONDS,
    ApiError,
    Cancellation,
    CancellationDetail,
    CancellationList,
    CancellationQuery,
    CancellationRequest,
    Conflict,
    Invalid,
)
from bridge.web.app_services import built_once, current_services
from bridge.web.openapi import openapi_document
from bridge.web.responses import json_response, kept_headers

PREFIX = "/api/v1"
blueprint = Blueprint("api", __name__, url_prefix=PREFIX)

log = logging.getLogger("bridge.api")
View = TypeVar("View", bound=Callable[..., Response])

CANCEL_BUDGET_SECONDS = 10.0  # Commerce and Amazon are asked within this, as an operator's console cancel is
MAX_REQUEST_ID = 2**31 - 1  # the id column's range (a 32-bit integer): a larger number names no request
_BEARER = re.compile(r"Bearer +([A-Za-z0-9._~+/-]{1,512}=*)", re.IGNORECASE)
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
# The status of a refusal, by the intake's decision; every other refusal is a 409 (the order's state says no).
_REFUSAL_STATUS = {"order_not_known": 404, "unavailable": 503}
_CANCELS = "api_cancel"  # the ceiling's buckets: one per token name, in the table of Amazon's quotas
COMMERCE_WOULD_NOT_CANCEL = "commerce_would_not_cancel"  # the Commerce order is in a state Commerce cannot cancel

# marshmallow schemas are reusable and thread-safe for load and dump: built once, not on every call.
REQUEST, QUERY = CancellationRequest(), CancellationQuery()
CANCELLATION, DETAIL, LIST = Cancellation(), CancellationDetail(), CancellationList()
ERROR, CONFLICT, INVALID = ApiError(), Conflict(), Invalid()


# --- answers ----------------------------------------------------------------------------------------------------


def _error(status: int, error: str, message: str) -> Response:
    return json_response(ERROR.dump({"error": error, "message": message}), status)


def _invalid(exc: ValidationError) -> Response:
    body = {"error": "invalid", "message": "some fields are not valid: see fields", "field_messages": exc.messages}
    return json_response(INVALID.dump(body), 422)


def _unavailable(message: str) -> Response:
    response = _error(503, "unavailable", message)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _too_many(retry_after: float) -> Response:
    rate, burst = CANCELS_PER_TOKEN
    message = f"this token may start {rate:g} cancels a second (bursts of {burst}): retry after Retry-After seconds"
    response = _error(429, "too_many_requests", message)
    response.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return response


def _cancel_ceiling() -> RateLimiter:
    """Every process counts against the same bucket per token (one row in the database, as for Amazon's quotas)."""
    return built_once(
        "api_cancel_ceiling",
        lambda _app: RateLimiter(current_services().engine, {_CANCELS: CANCELS_PER_TOKEN}, latency_allowance=0),
    )


def _unauthorized() -> Response:
    message = "send a live API token as 'Authorization: Bearer <token>' ('bridge api-tokens create NAME' issues one)"
    response = _error(401, "unauthorized", message)
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


@blueprint.errorhandler(HTTPException)
def http_error(exc: HTTPException) -> Response:
    """What Werkzeug raises for the API (a body past the size cap, an unknown address, a method the address does
    not serve) in the API's own shape, with Werkzeug's headers (a 405's ``Allow``)."""
    response = _error(exc.code or 500, (exc.name or "error").lower().replace(" ", "_"), exc.description or "")
    response.headers.update(kept_headers(exc))
    return response


def _with_token(view: View) -> View:
    """The token is checked before anything of the request is read; a fault of Commerce, Amazon or the database
    anywhere below is answered 503, saying to try again (its details go to the log, never to the caller)."""

    @wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Response:
        try:
            match = _BEARER.fullmatch(request.headers.get("Authorization", "").strip())
            g.api_token = current_services().api_tokens.holder_of(match.group(1)) if match else None
            if g.api_token is None:
                return _unauthorized()
            return view(*args, **kwargs)
        except (UpstreamError, SQLAlchemyError) as exc:
            # An UpstreamError's text carries no secret; a database error's may carry the statement's parameters.
            detail = str(exc)[:300] if isinstance(exc, UpstreamError) else None
            log.warning("API call could not be answered: %s", exc.__class__.__name__, extra={"error": detail})
            return _unavailable("the bridge could not reach Commerce, Amazon or its own database: try again shortly")

    return checked  # type: ignore[return-value]


def _cancellation(cancel: CancelRequest) -> dict[str, Any]:
    """The fields of a request that ``Cancellation`` shows, with its link."""
    return {
        "id": cancel.id, "state": cancel.state, "decision": cancel.decision,
        "amazon_order_id": cancel.amazon_order_id, "increment_id": cancel.increment_id,
        "store_code": cancel.store_code, "reason": cancel.reason, "source": cancel.source, "actor": cancel.actor,
        "created_at": cancel.created_at, "updated_at": cancel.updated_at,
        "links": {"self": url_for("api.get_cancellation", request_id=cancel.id)},
    }  # fmt: skip


# --- cancel -----------------------------------------------------------------------------------------------------


@blueprint.post("/cancellations")
@_with_token
def create_cancellation() -> Response:
    """With an ``Idempotency-Key``, a tool that lost the answer retries and gets that same answer, not a second
    attempt: the key is claimed first, and the answer kept under it (a 503 gives it up, so the retry runs)."""
    key = request.headers.get(IDEMPOTENCY_KEY_HEADER)
    if key is not None and not _IDEMPOTENCY_KEY.fullmatch(key):
        message = f"{IDEMPOTENCY_KEY_HEADER} must be 1 to 255 printable ASCII characters, with no space at either end"
        return _error(400, "bad_request", message)
    try:  # counted before anything is read or asked: a runaway tool costs the bridge one row update a call
        _cancel_ceiling().reserve(g.api_token, _CANCELS, max_wait=0)  # a bucket per token name
    except QuotaExhausted as exc:
        return _too_many(exc.retry_after or 1)
    body = request.get_data(cache=False)  # 413 past the app's MAX_CONTENT_LENGTH
    if key is None:
        return _cancel(body)
    keys, token = current_services().idempotency_keys, g.api_token
    fingerprint = hashlib.sha256(body).hexdigest()
    stored = keys.claim(token, key, fingerprint, time.time())
    if stored is not None:
        return _replay(stored, fingerprint)
    try:
        response = _cancel(body)
        if response.status_code == 503:
            keys.give_up(token, key)
        else:
            keys.store(token, key, response.status_code, response.get_data(as_text=True))
    except Exception:
        with contextlib.suppress(SQLAlchemyError):  # the database may be what failed: the original error matters
            keys.give_up(token, key)
        raise
    return response


def _replay(stored: StoredAnswer, fingerprint: str) -> Response:
    if stored.fingerprint != fingerprint:
        message = f"this {IDEMPOTENCY_KEY_HEADER} came with another body first: use a new key for a new request"
        return _error(422, "idempotency_key_reused", message)
    if stored.status_code is None or stored.body is None:
        message = f"the first request with this {IDEMPOTENCY_KEY_HEADER} is still being answered: retry shortly"
        return _error(409, "idempotency_key_in_use", message)
    response = Response(stored.body, status=stored.status_code, mimetype="application/json")
    response.headers[REPLAYED_HEADER] = "true"
    if stored.status_code == 202:
        response.headers["Location"] = json.loads(stored.body)["links"]["self"]
    return response


def _cancel(body: bytes) -> Response:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return _error(400, "bad_request", "the body is not JSON")
    if not isinstance(data, dict):
        return _error(400, "bad_request", "the body must be a JSON object")
    try:
        wanted = REQUEST.load(data)
    except ValidationError as exc:
        return _invalid(exc)
    order_ref = OrderRef(increment_id=wanted.get("increment_id"), amazon_order_id=wanted.get("amazon_order_id"))
    answer = current_services().intake.cancel_at_bridge(
        order_ref, wanted.get("reason"), Source.API, g.api_token, Deadline(CANCEL_BUDGET_SECONDS)
    )
    if answer.outcome is BridgeCancelOutcome.ACCEPTED:
        assert answer.request is not None
        data = _cancellation(answer.request)
        response = json_response(CANCELLATION.dump(data), 202)
        response.headers["Location"] = data["links"]["self"]
        return response
    assert answer.message is not None
    if answer.outcome in (BridgeCancelOutcome.UNDER_WAY, BridgeCancelOutcome.ALREADY_COMPLETED):
        assert answer.request is not None
        conflict = {"error": answer.outcome.value, "message": answer.message, "request_id": answer.request.id}
        return json_response(CONFLICT.dump(conflict), 409)
    if answer.decision in COMMERCE_REFUSALS:  # one code for tools; the message says which state and what to do
        conflict = {"error": COMMERCE_WOULD_NOT_CANCEL, "message": answer.message,
                    "commerce_state": answer.commerce_state or ""}  # fmt: skip
        return json_response(CONFLICT.dump(conflict), 409)
    status = _REFUSAL_STATUS.get(answer.decision, 409)
    if status == 503:  # Amazon's status could not be confirmed: nothing was decided
        return _unavailable(answer.message)
    return _error(status, answer.decision, answer.message)


# --- read -------------------------------------------------------------------------------------------------------


@blueprint.get("/cancellations/<int:request_id>")
@_with_token
def get_cancellation(request_id: int) -> Response:
    bridge = current_services()
    found = bridge.cancel_requests.get(request_id) if request_id <= MAX_REQUEST_ID else None
    if found is None:
        return _error(404, "not_found", f"there is no cancel request {request_id}")
    data = _cancellation(found)
    data["timeline"] = [asdict(event) for event in bridge.request_queries.timeline(found.id)]
    if found.completed_at is not None:
        data["completed_at"] = found.completed_at
    if found.amazon_result_code is not None or found.amazon_result_description is not None:
        data["amazon_result"] = {"code": found.amazon_result_code, "description": found.amazon_result_description}
    if found.last_error:  # an empty one is what a release without a fault leaves
        data["last_error"] = found.last_error
    return json_response(DETAIL.dump(data), 200)


@blueprint.get("/cancellations")
@_with_token
def list_cancellations() -> Response:
    """Every parameter is read as sent: an empty one is refused, not taken as left out (a tool whose ``since=``
    came out empty must not be handed every request), and so is one sent twice (which of the two would count?)."""
    repeated = {name: ["give this parameter once"] for name, values in request.args.lists() if len(values) > 1}
    if repeated:
        return _invalid(ValidationError(repeated))
    try:
        query = QUERY.load(request.args.to_dict())
    except ValidationError as exc:
        return _invalid(exc)
    search = RequestSearch(
        state=query.get("state"), store_code=query.get("store"), increment_id=query.get("increment_id"),
        amazon_order_id=query.get("amazon_order_id"), since=query.get("since"),
    )  # fmt: skip
    found, total = current_services().request_queries.search(search, query["limit"])
    data = {"items": [_cancellation(item) for item in found], "total": total, "limit": query["limit"]}
    return json_response(LIST.dump(data), 200)


@blueprint.get("/openapi.json")
def openapi_json() -> Response:
    """No token: the document describes the API and shows nothing of the orders."""
    return json_response(openapi_document(), 200)
