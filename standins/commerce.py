"""Stand-in for Adobe Commerce's REST API (orders), following ``reference/magento-rest``.

``/rest[/{store_code}]/V1/orders/{id}`` and ``/V1/orders`` with Magento's ``searchCriteria`` filters and ``fields``
filter, Bearer or OAuth 1.0a (HMAC-SHA256) integration auth, Magento's ``{"message","parameters"}`` errors, and
``POST /V1/orders/{id}/cancel`` that runs the configured ``before`` hook first and the ``after`` hook last, with
Commerce's own ``canCancel()`` in between, as Commerce does.
"""

from __future__ import annotations

import hmac
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from flask import Flask, Response, jsonify, request
from oauthlib.oauth1.rfc5849 import signature as oauth_signature
from oauthlib.oauth1.rfc5849.utils import parse_authorization_header

from standins.commerce_webhook import CommerceWebhook
from standins.faults import FaultPlan, Latency

# The ACL resource each route needs (sales-webapi.xml; the webhooks module's list).
ACL_BY_ROUTE = {
    "GET /rest/V1/orders/<int:entity_id>": "Magento_Sales::actions_view",
    "GET /rest/V1/orders": "Magento_Sales::actions_view",
    "POST /rest/V1/orders": "Magento_Sales::api_actions",
    "POST /rest/V1/orders/<int:entity_id>/comments": "Magento_Sales::comment",
    "POST /rest/V1/orders/<int:entity_id>/cancel": "Magento_Sales::cancel",
    "GET /rest/all/V1/webhooks/list": "Magento_AdobeCommerceWebhooks::webhooks_list",
}
ALL_RESOURCES = frozenset(ACL_BY_ROUTE.values())
UNAUTHORIZED = "The consumer isn't authorized to access %resources."
NONCE_WINDOW = 600
NOT_FOUND = "The entity that was requested doesn't exist. Verify the entity and try again."
# Order states whose orders Commerce's canCancel() refuses (Magento\Sales\Model\Order::canCancel).
NOT_CANCELABLE_STATES = {"holded", "payment_review", "canceled", "complete", "closed"}
NOT_CANCELED_MESSAGE = "You have not canceled the item."
# OrderManagementInterface::cancel as a hook's webhook_method: on PaaS, and on Adobe Commerce as a Cloud Service.
CANCEL_METHODS = ("plugin.magento.sales.api.order_management.cancel", "plugin.sales.api.order_management.cancel")
# Which statuses belong to which state (Magento's defaults): a comment may only carry a status of the current state.
STATUSES_BY_STATE = {
    "new": {"pending"},
    "processing": {"processing", "fraud"},
    "complete": {"complete"},
    "closed": {"closed"},
    "canceled": {"canceled"},
    "holded": {"holded"},
    "payment_review": {"payment_review", "fraud"},
}


@dataclass(frozen=True)
class Integration:
    access_token: str
    consumer_key: str = ""
    consumer_secret: str = ""
    access_token_secret: str = ""
    resources: frozenset[str] = ALL_RESOURCES  # what the integration was granted in System > Integrations


def parse_fields(spec: str) -> dict[str, Any]:
    """``a,b[c,d[e]]`` -> ``{"a": None, "b": {"c": None, "d": {"e": None}}}`` (Magento's FieldsFilter syntax)."""
    position = 0

    def parse_level() -> dict[str, Any]:
        nonlocal position
        tree: dict[str, Any] = {}
        name = ""
        while position < len(spec):
            char = spec[position]
            position += 1
            if char == "[":
                tree[name.strip()] = parse_level()
                name = ""
            elif char == "]":
                break
            elif char == ",":
                if name.strip():
                    tree[name.strip()] = None
                name = ""
            else:
                name += char
        if name.strip():
            tree[name.strip()] = None
        return tree

    return parse_level()


def apply_fields(value: Any, tree: dict[str, Any] | None) -> Any:
    if tree is None:
        return value
    if isinstance(value, list):
        return [apply_fields(item, tree) for item in value]
    if isinstance(value, dict):
        return {key: apply_fields(value[key], sub) for key, sub in tree.items() if key in value}
    return value


_WEBHOOK_NAME = re.compile(r"[A-Za-z0-9_]+")


def _webhook_key(hook: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(hook.get(name) for name in ("webhook_method", "webhook_type", "batch_name", "hook_name"))


def _webhook_problem(webhook: Any) -> str | None:
    """What Adobe's subscribe refuses: a missing required field, a hook or batch name other than English letters,
    digits and _, a negative or non-integer timeout, soft timeout or TTL."""
    if not isinstance(webhook, dict):
        return '"webhook" is required. Enter and try again.'
    for name in ("hook_name", "url", "webhook_method", "webhook_type", "batch_name"):
        if not webhook.get(name):
            return f'"{name}" is required. Enter and try again.'
    for name in ("hook_name", "batch_name"):
        if not _WEBHOOK_NAME.fullmatch(str(webhook[name])):
            return f"{name} can contain only alphanumeric characters and underscores."
    if webhook["webhook_type"] not in ("before", "after"):
        return "webhook_type must be before or after."
    for name in ("timeout", "soft_timeout", "ttl"):
        value = webhook.get(name, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return f"{name} must be a non-negative integer."
    return None


def magento_error(status: int, message: str, parameters: Any = None) -> Response:
    body: dict[str, Any] = {"message": message}
    if parameters is not None:
        body["parameters"] = parameters
    response = jsonify(body)
    response.status_code = status
    return response


def _now() -> str:
    """Commerce's datetimes: UTC, ``YYYY-MM-DD HH:MM:SS``."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())


_CRITERIA_KEY = re.compile(r"searchCriteria\[filter_groups\]\[(\d+)\]\[filters\]\[(\d+)\]\[(\w+)\]")
_SORT_KEY = re.compile(r"searchCriteria\[sortOrders\]\[(\d+)\]\[(\w+)\]")


def _compare(condition: str, actual: Any, wanted: str) -> bool:
    if actual is None:
        return condition == "null"
    text = str(actual)
    checks = {
        "eq": lambda: text == wanted,
        "neq": lambda: text != wanted,
        "in": lambda: text in wanted.split(","),
        "nin": lambda: text not in wanted.split(","),
        "gteq": lambda: _ordered(text) >= _ordered(wanted),
        "gt": lambda: _ordered(text) > _ordered(wanted),
        "lteq": lambda: _ordered(text) <= _ordered(wanted),
        "lt": lambda: _ordered(text) < _ordered(wanted),
        "like": lambda: re.fullmatch(re.escape(wanted).replace("%", ".*"), text) is not None,
        "notnull": lambda: True,
    }
    if condition not in checks:
        raise ValueError("condition_type")
    return checks[condition]()


def _ordered(value: str) -> tuple[int, Any]:
    """Numbers compare as numbers, everything else (datetimes in Commerce's format) as text."""
    return (0, int(value)) if value.isdigit() else (1, value)


@dataclass
class SearchCriteria:
    """Magento's ``searchCriteria``: filters inside a group are ORed, groups are ANDed; then sort and page."""

    groups: list[list[tuple[str, str, str]]]  # (field, value, condition_type)
    sort: list[tuple[str, str]]  # (field, ASC|DESC)
    page_size: int
    current_page: int

    @classmethod
    def from_args(cls, args: Any) -> SearchCriteria:
        groups: dict[int, dict[int, dict[str, str]]] = {}
        sorts: dict[int, dict[str, str]] = {}
        for key, value in args.items():
            if match := _CRITERIA_KEY.fullmatch(key):
                groups.setdefault(int(match[1]), {}).setdefault(int(match[2]), {})[match[3]] = value
            elif match := _SORT_KEY.fullmatch(key):
                sorts.setdefault(int(match[1]), {})[match[2]] = value
        try:
            page_size = int(args.get("searchCriteria[pageSize]", "20"))
            current_page = int(args.get("searchCriteria[currentPage]", "1"))
        except ValueError:
            raise ValueError("pageSize") from None
        filters = [
            [(f["field"], f.get("value", ""), f.get("condition_type", "eq")) for _, f in sorted(group.items())]
            for _, group in sorted(groups.items())
        ]
        if any("field" not in f for group in groups.values() for f in group.values()):
            raise ValueError("field")
        order = [(s.get("field", "entity_id"), s.get("direction", "ASC").upper()) for _, s in sorted(sorts.items())]
        return cls(filters, order or [("entity_id", "ASC")], max(1, page_size), max(1, current_page))

    def select(self, orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
        matching = [
            order
            for order in orders
            if all(any(_compare(c, order.get(f), v) for f, v, c in group) for group in self.groups)
        ]
        for field_name, direction in reversed(self.sort):
            matching.sort(key=lambda o, f=field_name: _ordered(str(o.get(f, ""))), reverse=direction == "DESC")
        return matching

    def page(self, matching: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A page past the end is the last page again, as Magento answers."""
        last_page = max(1, -(-len(matching) // self.page_size))
        start = (min(self.current_page, last_page) - 1) * self.page_size
        return matching[start : start + self.page_size]

    def echo(self) -> dict[str, Any]:
        return {
            "filter_groups": [
                {"filters": [{"field": f, "value": v, "condition_type": c} for f, v, c in group]}
                for group in self.groups
            ],
            "page_size": self.page_size,
            "current_page": self.current_page,
        }


class CommerceStandIn:
    def __init__(
        self, integration: Integration, accept_bearer: bool = True, signing_key: RSAPrivateKey | None = None
    ) -> None:
        self.integration = integration
        self.accept_bearer = accept_bearer
        # Commerce's webhook signing key (Adobe Services > Webhooks > Digital Signature). With one, the hooks
        # registered on the cancel (subscribed over REST, or webhooks.xml) become ``cancel_hook``, as Commerce calls
        # what it has registered; without one, tests set ``cancel_hook`` themselves.
        self.signing_key = signing_key
        self.orders: dict[int, dict[str, Any]] = {}
        self.cancel_hook: CommerceWebhook | None = None
        self.registered_webhooks: list[dict[str, Any]] = []  # what GET /V1/webhooks/list answers
        self.faults = FaultPlan()
        self.latency = Latency()  # every call's round trip, for benchmarks
        self.calls: Counter[str] = Counter()
        self.customer_notifications = 0  # comments saved with is_customer_notified: e-mails Commerce would send
        self.regenerate_missing_increment_id = True  # as some versions do when POST /V1/orders omits it
        self._nonces: set[str] = set()
        self._lock = threading.RLock()
        self._call_seen = threading.Condition(self._lock)
        self.app = self._build_app()

    # --- set-up -------------------------------------------------------------------------------------------
    def add_order(
        self,
        entity_id: int,
        *,
        store_id: int = 1,
        payment_method: str = "checkmo",
        po_number: str | None = None,
        state: str = "processing",
        status: str = "processing",
        payment_info: dict[str, str] | None = None,
        increment_id: str | None = None,
    ) -> dict[str, Any]:
        """An order as Commerce's REST API shows it; ``payment_info``: what an importer keeps in the payment's
        additional information, shown bare in ``payment.additional_information`` and by key in
        ``extension_attributes.payment_additional_info`` (Magento's API functional tests assert that shape)."""
        info = payment_info or {}
        order = {
            "entity_id": entity_id,
            "increment_id": increment_id or f"{entity_id:09d}",
            "state": state,
            "status": status,
            "store_id": store_id,
            "customer_email": f"buyer{entity_id}@marketplace.example",
            "grand_total": 42.5,
            "items": [{"item_id": entity_id * 10, "sku": "SKU-1", "qty_ordered": 1}],
            "payment": {
                "method": payment_method,
                "po_number": po_number,
                "additional_information": list(info.values()),
            },
            "extension_attributes": {
                "payment_additional_info": [{"key": key, "value": value} for key, value in info.items()]
            },
            "status_histories": [],
            "updated_at": _now(),
        }
        with self._lock:
            self.orders[entity_id] = order
        return order

    def cancel(self, entity_id: int) -> tuple[bool, str | None]:
        """What the admin's Cancel button does: ask the before hook (and show its message when it stops the
        cancel), cancel if canCancel() allows, then tell the after hook the result. Returns (canceled, message)."""
        if self.cancel_hook is not None:
            result = self.cancel_hook.call_before_cancel(entity_id)
            if not result.proceed:
                return False, result.message
        with self._lock:
            order = self.orders[entity_id]
            canceled = order["state"] not in NOT_CANCELABLE_STATES
            if canceled:
                order["state"] = order["status"] = "canceled"
                order["updated_at"] = _now()
        if self.cancel_hook is not None:
            self.cancel_hook.call_after_cancel(entity_id, canceled)
        return canceled, None if canceled else NOT_CANCELED_MESSAGE

    def register_cancel_hooks(self, bridge_url: str) -> None:
        """What installing config/webhooks.xml (and generating the plugin module) leaves in Commerce's list."""
        common = {"webhook_method": CANCEL_METHODS[0], "method": "POST"}
        with self._lock:
            self.registered_webhooks = [
                {**common, "webhook_type": "before", "batch_name": "amazon_cancel_bridge",
                 "hook_name": "amazon_order_cancel", "url": f"{bridge_url}/webhooks/commerce/order-cancel",
                 "required": True, "timeout": 3000},
                {**common, "webhook_type": "after", "batch_name": "amazon_cancel_bridge_after",
                 "hook_name": "amazon_order_canceled", "url": f"{bridge_url}/webhooks/commerce/order-cancel-after",
                 "required": False, "timeout": 3000},
            ]  # fmt: skip
            self._registered_changed()

    def _registered_changed(self) -> None:
        """With a signing key, the registered cancel hooks are the ones ``cancel()`` calls, signed (lock held)."""
        if self.signing_key is None:
            return
        on_cancel = {hook["webhook_type"]: hook for hook in self.registered_webhooks
                     if hook.get("webhook_method") in CANCEL_METHODS}  # fmt: skip
        before, after = on_cancel.get("before"), on_cancel.get("after")
        if before is None:
            self.cancel_hook = None
            return
        options: dict[str, Any] = {"after_url": after["url"] if after else None, "private_key": self.signing_key,
                                   "required": str(before.get("required")).lower() in ("1", "true")}  # fmt: skip
        if int(before.get("timeout") or 0) > 0:  # 0: no limit in Commerce; the stand-in's default then
            options["timeout"] = int(before["timeout"]) / 1000
        if before.get("fallback_error_message"):
            options["fallback_error_message"] = before["fallback_error_message"]
        headers = [(str(h.get("name")), str(h.get("value"))) for h in before.get("headers") or []]
        if headers:
            options["secret_header"] = headers[0]
        self.cancel_hook = CommerceWebhook(before["url"], **options)

    def wait_for_calls(self, operation: str, count: int, timeout: float = 30.0) -> bool:
        """Block until ``operation`` (e.g. "POST /rest/V1/orders") has been called ``count`` times."""
        with self._call_seen:
            return self._call_seen.wait_for(lambda: self.calls[operation] >= count, timeout)

    # --- auth ---------------------------------------------------------------------------------------------
    def _authorized(self) -> bool:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return self.accept_bearer and hmac.compare_digest(header[7:], self.integration.access_token)
        if header.startswith("OAuth "):
            return self._valid_oauth1(header)
        return False

    def _valid_oauth1(self, header: str) -> bool:
        integration = self.integration
        oauth = dict(parse_authorization_header(header))
        if (
            oauth.get("oauth_signature_method") != "HMAC-SHA256"
            or oauth.get("oauth_consumer_key") != integration.consumer_key
            or oauth.get("oauth_token") != integration.access_token
            or abs(time.time() - int(oauth.get("oauth_timestamp", "0"))) > NONCE_WINDOW
        ):
            return False
        params = oauth_signature.collect_parameters(
            uri_query=request.query_string.decode("ascii"), headers={"Authorization": header}, with_realm=False
        )
        base_string = oauth_signature.signature_base_string(
            request.method,
            oauth_signature.base_string_uri(request.base_url),
            oauth_signature.normalize_parameters(params),
        )
        secrets = SimpleNamespace(
            client_secret=integration.consumer_secret, resource_owner_secret=integration.access_token_secret
        )
        expected = oauth_signature.sign_hmac_sha256_with_client(base_string, secrets)
        if not hmac.compare_digest(expected, unquote(oauth.get("oauth_signature", ""))):
            return False
        with self._lock:
            nonce = oauth.get("oauth_nonce", "")
            if nonce in self._nonces:
                return False  # a replayed request
            self._nonces.add(nonce)
        return True

    # --- routes -------------------------------------------------------------------------------------------
    def _build_app(self) -> Flask:
        app = Flask("commerce_standin")
        standin = self

        @app.before_request
        def _guard() -> Response | None:
            standin.latency.wait()
            operation = f"{request.method} {request.url_rule.rule if request.url_rule else request.path}"
            with standin._call_seen:
                standin.calls[operation] += 1
                standin._call_seen.notify_all()
            fault = standin.faults.take(operation) or standin.faults.take(request.method)
            if fault and fault.delay:
                time.sleep(fault.delay)
            if fault and fault.status:
                return magento_error(fault.status, "Internal Error. Details are available in Magento log file.")
            rule = request.url_rule.rule if request.url_rule else request.path
            resource = ACL_BY_ROUTE.get(f"{request.method} {re.sub(r'^/rest/(?!all/)[^/]+/V1', '/rest/V1', rule)}")
            resource = ACL_BY_ROUTE.get(f"{request.method} {rule}", resource)
            if not standin._authorized():
                return magento_error(401, UNAUTHORIZED, {"resources": resource or "Magento_Sales::sales"})
            if resource is not None and resource not in standin.integration.resources:
                return magento_error(401, UNAUTHORIZED, {"resources": resource})
            return None

        def filtered(body: Any) -> Response:
            spec = request.args.get("fields")
            return jsonify(apply_fields(body, parse_fields(spec)) if spec else body)

        @app.get("/rest/V1/orders/<int:entity_id>")
        @app.get("/rest/<store_code>/V1/orders/<int:entity_id>")
        def get_order(entity_id: int, store_code: str = "default") -> Response:
            with standin._lock:
                order = standin.orders.get(entity_id)
                if order is None:
                    return magento_error(404, NOT_FOUND)
                return filtered(order)

        @app.get("/rest/V1/orders")
        @app.get("/rest/<store_code>/V1/orders")
        def search_orders(store_code: str = "default") -> Response:
            try:
                criteria = SearchCriteria.from_args(request.args)
            except ValueError as exc:
                return magento_error(400, '"%fieldName" is required. Enter and try again.', {"fieldName": str(exc)})
            with standin._lock:
                matching = criteria.select(list(standin.orders.values()))
            return filtered(
                {
                    "items": criteria.page(matching),
                    "search_criteria": criteria.echo(),
                    "total_count": len(matching),
                }
            )

        @app.post("/rest/V1/orders")
        @app.post("/rest/<store_code>/V1/orders")
        def save_order(store_code: str = "default") -> Response:
            body = request.get_json(silent=True)
            entity = body.get("entity") if isinstance(body, dict) else None
            if not isinstance(entity, dict) or "entity_id" not in entity:
                return magento_error(400, '"%fieldName" is required. Enter and try again.', {"fieldName": "entity"})
            with standin._lock:
                order = standin.orders.get(int(entity["entity_id"]))
                if order is None:
                    return magento_error(404, NOT_FOUND)
                for key, value in entity.items():
                    if key not in ("items", "payment", "status_histories") and not isinstance(value, (dict, list)):
                        order[key] = value
                order["updated_at"] = _now()
                if "increment_id" not in entity and standin.regenerate_missing_increment_id:
                    order["increment_id"] = f"9{order['entity_id']:08d}"
                return jsonify(order)

        @app.post("/rest/V1/orders/<int:entity_id>/comments")
        @app.post("/rest/<store_code>/V1/orders/<int:entity_id>/comments")
        def add_comment(entity_id: int, store_code: str = "default") -> Response:
            body = request.get_json(silent=True)
            history = body.get("statusHistory") if isinstance(body, dict) else None
            if not isinstance(history, dict) or not history.get("comment"):
                return magento_error(
                    400, '"%fieldName" is required. Enter and try again.', {"fieldName": "statusHistory"}
                )
            with standin._lock:
                order = standin.orders.get(entity_id)
                if order is None:
                    return magento_error(404, NOT_FOUND)
                status = history.get("status")
                if status and status not in STATUSES_BY_STATE.get(order["state"], set()):
                    return magento_error(
                        400, 'The status "%1" is not part of the order status history.', [status]
                    )  # 2.4.7+: a comment cannot move the order to a status of another state
                if status:
                    order["status"] = status
                notified = bool(int(history.get("is_customer_notified") or 0))
                standin.customer_notifications += notified
                order["status_histories"].append(
                    {
                        "comment": history["comment"],
                        "created_at": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
                        "entity_name": "order",
                        "is_customer_notified": int(notified),
                        "is_visible_on_front": int(history.get("is_visible_on_front") or 0),
                        "parent_id": entity_id,
                        "status": order["status"],
                    }
                )
            return jsonify(True)

        @app.get("/rest/all/V1/webhooks/list")
        def webhooks_list() -> Response:
            with standin._lock:
                return jsonify(list(standin.registered_webhooks))

        @app.post("/rest/all/V1/webhooks/subscribe")
        def webhooks_subscribe() -> Response:
            """Adobe's subscribe (Magento_AdobeCommerceWebhooksSubscriber): the fields of webhooks.xml in snake_case,
            validated as its API documentation says; stored like a webhooks.xml hook, in the same list."""
            webhook = (request.get_json(silent=True) or {}).get("webhook")
            problem = _webhook_problem(webhook)
            if problem:
                return magento_error(400, problem)
            with standin._lock:
                standin.registered_webhooks = [
                    hook for hook in standin.registered_webhooks if _webhook_key(hook) != _webhook_key(webhook)
                ] + [dict(webhook)]
                standin._registered_changed()
            return jsonify(True)

        @app.post("/rest/all/V1/webhooks/unsubscribe")
        def webhooks_unsubscribe() -> Response:
            webhook = (request.get_json(silent=True) or {}).get("webhook")
            if not isinstance(webhook, dict):
                return magento_error(400, '"webhook" is required. Enter and try again.')
            with standin._lock:
                kept = [hook for hook in standin.registered_webhooks if _webhook_key(hook) != _webhook_key(webhook)]
                if len(kept) == len(standin.registered_webhooks):
                    return magento_error(404, "The webhook was not found.")
                standin.registered_webhooks = kept
                standin._registered_changed()
            return jsonify(True)

        @app.post("/rest/V1/orders/<int:entity_id>/cancel")
        @app.post("/rest/<store_code>/V1/orders/<int:entity_id>/cancel")
        def cancel_order(entity_id: int, store_code: str = "default") -> Response:
            if entity_id not in standin.orders:
                return magento_error(404, NOT_FOUND)
            canceled, message = standin.cancel(entity_id)
            if not canceled:
                return magento_error(400, message or "")
            return jsonify(True)

        return app
