"""The API's OpenAPI document, generated with apispec from the API's registered views and marshmallow schemas.

Paths come from the app's URL rules (FlaskPlugin), payloads from the very schemas the views load and dump with
(MarshmallowPlugin); what each operation answers is written here, once per view. A view of the API blueprint
without an operation here fails the document's build, so the document cannot leave an endpoint out.
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec_webframeworks.flask import FlaskPlugin
from flask import Flask
from marshmallow import Schema

from bridge.web.api_schemas import (
    CANCELS_PER_TOKEN,
    IDEMPOTENCY_KEY_HEADER,
    IDEMPOTENCY_KEY_PATTERN,
    ORDER_FIELDS,
    REPLAYED_HEADER,
    ApiError,
    Cancellation,
    CancellationDetail,
    CancellationList,
    CancellationQuery,
    CancellationRequest,
    Conflict,
    Invalid,
)
from bridge.web.app_services import built_once

BLUEPRINT = "api"  # the name of the blueprint in bridge.web.api (which imports this module)
BEARER = "bearerAuth"
TITLE = "Amazon cancel bridge API"
VERSION = "1.0.0"
INTRO = (
    "Cancel Amazon orders of Adobe Commerce through the bridge, and follow the cancel requests. Every call but "
    "this document sends an API token as `Authorization: Bearer <token>`; `bridge api-tokens create NAME` issues "
    "one. A cancel goes through the same rule as a cancel in the Commerce admin: the bridge asks Amazon before "
    "accepting it, and refuses with the message the admin would read."
)
SCHEMAS: tuple[type[Schema], ...] = (
    CancellationRequest, Cancellation, CancellationDetail, CancellationList, ApiError, Conflict, Invalid,
)  # fmt: skip
# What a schema's fields cannot say, in JSON Schema's words, so the document refuses what the schema's load refuses:
# a cancel's unknown fields (marshmallow's default), and both or neither of its order's names (its _one_order).
CONSTRAINTS: dict[type[Schema], dict[str, Any]] = {
    CancellationRequest: {
        "additionalProperties": False,
        "oneOf": [{"required": [name]} for name in ORDER_FIELDS],
    },
}


def openapi_document() -> dict[str, Any]:
    """The document of the current app's API, built once per app (its views never change once it serves)."""
    return built_once("openapi", build_document)


def build_document(app: Flask) -> dict[str, Any]:
    spec = APISpec(
        title=TITLE,
        version=VERSION,
        openapi_version="3.0.3",
        plugins=[FlaskPlugin(), MarshmallowPlugin()],
        info={"description": INTRO},
        security=[{BEARER: []}],
    )
    spec.components.security_scheme(
        BEARER, {"type": "http", "scheme": "bearer", "description": "An API token from `bridge api-tokens create`."}
    )
    for schema in SCHEMAS:
        spec.components.schema(schema.__name__, CONSTRAINTS.get(schema), schema=schema)
    operations = _operations()
    rules = sorted(
        (rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith(f"{BLUEPRINT}.")),
        key=lambda rule: (rule.rule, rule.endpoint),
    )
    for rule in rules:
        view_name = rule.endpoint.removeprefix(f"{BLUEPRINT}.")
        if view_name not in operations:
            raise LookupError(f"the API view {view_name} has no operation in bridge.web.openapi")
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        spec.path(
            view=app.view_functions[rule.endpoint],
            app=app,
            operations={method.lower(): operations[view_name] for method in methods},
        )
    return spec.to_dict()


# --- what each view answers -------------------------------------------------------------------------------------


def _json(schema: type[Schema] | dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _answer(
    description: str, schema: type[Schema] | dict[str, Any] = ApiError, headers: dict[str, Any] | None = None
) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description, "content": _json(schema)}
    if headers:
        answer["headers"] = headers
    return answer


def _header(description: str, **schema: Any) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string", **schema}}


def _replayable(answer: dict[str, Any]) -> dict[str, Any]:
    """An answer that may be given again for a repeated Idempotency-Key."""
    replayed = _header(f"`true` when this is the answer kept for a repeated {IDEMPOTENCY_KEY_HEADER}.", enum=["true"])
    answer.setdefault("headers", {})[REPLAYED_HEADER] = replayed
    return answer


def _unauthorized() -> dict[str, Any]:
    return _answer(
        "No live API token: none sent, unknown, or revoked.",
        headers={"WWW-Authenticate": _header("`Bearer`.")},
    )


def _unavailable(what: str) -> dict[str, Any]:
    return _answer(
        f"{what} Nothing was changed: try again later.",
        headers={"Retry-After": _header("Seconds to wait before trying again.", pattern="^[0-9]+$")},
    )


CONFLICTS = (
    "Refused: `error` says why for the tool, and `message` is what the Commerce admin would read, in the store's "
    "language.\n\n"
    "- The order's state at Amazon: `shipped`, `pending`, `partially_shipped`, `amazon_fulfilled`, "
    "`not_cancelable`, `not_found_at_amazon`.\n"
    "- Its store: `store_not_configured` (the bridge has no Amazon store for it), `order_import_off`.\n"
    "- `not_amazon`: the order did not come from Amazon.\n"
    "- `order_number_ambiguous`: more than one website has this order number: name it by `amazon_order_id`.\n"
    "- `commerce_would_not_cancel`: the Commerce order is on hold, in payment review, closed, canceled or "
    "complete; `commerce_state` gives its state.\n"
    "- `reason_not_allowed`: `BuyerCanceled` for an order whose buyer did not ask Amazon to cancel.\n"
    "- `under_way`: a cancel of the order is under way; `request_id` is that request.\n"
    "- `already_completed`: the order's cancel is done; `request_id` is the request that did it.\n"
    f"- `idempotency_key_in_use`: the first call with this `{IDEMPOTENCY_KEY_HEADER}` is still being answered: "
    "retry shortly."
)


def _operations() -> dict[str, dict[str, Any]]:
    """Fresh dicts on every build: apispec rewrites them in place as it resolves the schemas."""
    return {
        "create_cancellation": {
            "operationId": "createCancellation",
            "summary": "Cancel an Amazon order",
            "description": (
                "Checks the order with Amazon and the cancel rule, then records the cancel request at `pending`: "
                "the bridge sends it to Amazon and sets the Commerce order Complete once Amazon confirms. Give "
                "exactly one of `increment_id` and `amazon_order_id`. With an `Idempotency-Key`, a retry with the "
                "same key and body gets the first answer again (with `Idempotent-Replayed: true`)."
            ),
            "parameters": [
                {
                    "in": "header",
                    "name": IDEMPOTENCY_KEY_HEADER,
                    "required": False,
                    "description": "Makes a retry safe: the same key and body get the first answer again (a day).",
                    "schema": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 255,
                        "pattern": f"^{IDEMPOTENCY_KEY_PATTERN}$",
                    },
                }
            ],
            "requestBody": {"required": True, "content": _json(CancellationRequest)},
            "responses": {
                "202": _replayable(
                    {
                        **_answer(
                            "Accepted: the cancel request is recorded at `pending`.",
                            Cancellation,
                            {"Location": _header("Where the request can be read.")},
                        ),
                        "links": {
                            "getCancellation": {
                                "operationId": "getCancellation",
                                "parameters": {"request_id": "$response.body#/id"},
                                "description": "The request just recorded, as it goes on.",
                            }
                        },
                    }
                ),
                "400": _replayable(_answer(f"The body is not a JSON object, or the {IDEMPOTENCY_KEY_HEADER} is bad.")),
                "401": _unauthorized(),
                "404": _replayable(_answer("`order_not_known`: neither the bridge nor Commerce knows the order.")),
                "409": _replayable(_answer(CONFLICTS, Conflict)),
                "413": _answer("The body is too large."),
                "422": _replayable(
                    _answer(
                        "`invalid`: the body does not fit `CancellationRequest` (`fields` says how); or "
                        "`idempotency_key_reused`: the key came with another body first.",
                        Invalid,
                    )
                ),
                "429": _answer(
                    f"`too_many_requests`: the token's ceiling on cancels ({CANCELS_PER_TOKEN[0]:g} a second, in "
                    f"bursts of {CANCELS_PER_TOKEN[1]}) is reached. Nothing was read or changed: retry after "
                    "`Retry-After`.",
                    headers={"Retry-After": _header("Seconds to wait before trying again.", pattern="^[0-9]+$")},
                ),
                "503": _unavailable("Commerce, Amazon or the bridge's database did not answer (`unavailable`)."),
            },
        },
        "get_cancellation": {
            "operationId": "getCancellation",
            "summary": "Read a cancel request",
            "description": "The request, every state it went through, and what Amazon answered.",
            "parameters": [
                {
                    "in": "path",
                    "name": "request_id",
                    "required": True,
                    "description": "The request's `id`, as in its `links.self`.",
                    "schema": {"type": "integer", "minimum": 1},
                }
            ],
            "responses": {
                "200": _answer("The request.", CancellationDetail),
                "401": _unauthorized(),
                "404": _answer("`not_found`: there is no request with this id."),
                "503": _unavailable("The bridge's database did not answer."),
            },
        },
        "list_cancellations": {
            "operationId": "listCancellations",
            "summary": "List cancel requests",
            "description": (
                "Newest first. Every filter given must match. A parameter sent empty, twice, or unknown is refused "
                "(422), never taken as left out."
            ),
            "parameters": [{"in": "query", "schema": CancellationQuery}],
            "responses": {
                "200": _answer("The requests.", CancellationList),
                "401": _unauthorized(),
                "422": _answer(
                    "`invalid`: a query parameter is empty, malformed, sent twice or unknown (`fields` says how).",
                    Invalid,
                ),
                "503": _unavailable("The bridge's database did not answer."),
            },
        },
        "openapi_json": {
            "operationId": "getOpenApiDocument",
            "summary": "This document",
            "description": "The OpenAPI 3.0 description of this API, generated from the code that serves it.",
            "security": [],
            "responses": {"200": _answer("The OpenAPI document.", {"type": "object"})},
        },
    }
