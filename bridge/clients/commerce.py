"""Commerce (Magento) REST client: read the orders the webhook names (and, later, write them back)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC
from typing import Any
from urllib.parse import quote

import requests
from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load
from requests.auth import AuthBase

from bridge.clients.deadline import Deadline
from bridge.clients.http_retry import sleep_before_retry
from bridge.clients.oauth1 import BearerToken, OAuth1HmacSha256
from bridge.domain.commerce_order import CommerceOrder
from bridge.errors import NotFound, UpstreamRejected, UpstreamUnavailable
from bridge.metrics import COMMERCE_CALLS
from bridge.settings import CommerceAuth

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OrderState:
    increment_id: str | None
    state: str | None
    status: str | None
    comments: tuple[str, ...]


SERVICE = "Commerce"
ORDER_FIELDS = "entity_id,increment_id,state,status,store_id,updated_at,payment[method,po_number]"
SEARCH_FIELDS = f"items[{ORDER_FIELDS}],total_count"
COMMERCE_TIME = "%Y-%m-%d %H:%M:%S"  # Commerce's datetimes, in UTC
WRITE_BACK_FIELDS = "entity_id,increment_id,state,status,status_histories[comment]"
CALL_TIMEOUT = 10.0


class _PaymentSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    method = fields.String(load_default=None, allow_none=True)
    po_number = fields.String(load_default=None, allow_none=True)


class _OrderSchema(Schema):
    """One order, as ``GET /V1/orders/{id}`` and the items of ``GET /V1/orders`` give it with ORDER_FIELDS."""

    class Meta:
        unknown = EXCLUDE

    entity_id = fields.Integer(required=True)
    increment_id = fields.String(load_default=None, allow_none=True)
    state = fields.String(load_default=None, allow_none=True)
    status = fields.String(load_default=None, allow_none=True)
    store_id = fields.Integer(load_default=None, allow_none=True)
    updated_at = fields.DateTime(format=COMMERCE_TIME, load_default=None, allow_none=True)
    payment = fields.Nested(_PaymentSchema, load_default=dict)

    @pre_load
    def _empty_payment(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict) and data.get("payment") in (None, [], ""):
            data = {**data, "payment": {}}
        return data


def _commerce_order(body: Any, what: str) -> CommerceOrder:
    try:
        data = _OrderSchema().load(body)
    except ValidationError as exc:
        raise UpstreamUnavailable(SERVICE, f"{what} came back malformed: {exc.messages}") from None
    updated_at = data["updated_at"]
    return CommerceOrder(
        entity_id=data["entity_id"],
        increment_id=data["increment_id"],
        state=data["state"],
        status=data["status"],
        store_id=data["store_id"],
        payment_method=data["payment"].get("method"),
        po_number=data["payment"].get("po_number"),
        updated_at=updated_at.replace(tzinfo=UTC).timestamp() if updated_at else None,
    )


def _auth_for(auth: CommerceAuth) -> AuthBase:
    if auth.uses_oauth1:
        return OAuth1HmacSha256(auth.consumer_key, auth.consumer_secret, auth.access_token, auth.access_token_secret)
    return BearerToken(auth.access_token)


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


class CommerceClient:
    def __init__(
        self,
        base_url: str,
        auth: CommerceAuth,
        store_code: str | None = None,
        session: requests.Session | None = None,
    ) -> None:
        prefix = f"/rest/{quote(store_code, safe='')}" if store_code else "/rest"
        self._api = f"{base_url.rstrip('/')}{prefix}/V1"
        self._all_stores_api = f"{base_url.rstrip('/')}/rest/all/V1"  # where Commerce lists its webhooks
        self._auth = _auth_for(auth)
        self._session = session or requests.Session()

    def get_order(self, entity_id: int, deadline: Deadline) -> CommerceOrder:
        body = self._request("GET", f"/orders/{entity_id}", deadline, params={"fields": ORDER_FIELDS})
        return _commerce_order(body, f"order {entity_id}")

    def orders_with_number(self, increment_id: str, deadline: Deadline) -> list[CommerceOrder]:
        """The orders an admin knows by this number (increment id): one, none, or (where websites number their
        orders alike) two, which is all a caller needs to know it cannot tell which."""
        body = self._request(
            "GET",
            "/orders",
            deadline,
            params={
                "searchCriteria[filter_groups][0][filters][0][field]": "increment_id",
                "searchCriteria[filter_groups][0][filters][0][value]": increment_id,
                "searchCriteria[filter_groups][0][filters][0][condition_type]": "eq",
                "searchCriteria[pageSize]": "2",
                "fields": SEARCH_FIELDS,
            },
        )
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise UpstreamUnavailable(SERVICE, "order search came back malformed")
        return [_commerce_order(item, f"order {increment_id}") for item in items[:2]]

    def orders_updated_since(
        self, since: float, page: int, page_size: int, deadline: Deadline
    ) -> tuple[list[CommerceOrder], int]:
        """One page of the orders updated at or after ``since`` (epoch seconds), oldest change first; and how many
        there are in all (Commerce answers a page past the end with the last page again: stop on the total)."""
        body = self._request(
            "GET",
            "/orders",
            deadline,
            params={
                "searchCriteria[filter_groups][0][filters][0][field]": "updated_at",
                "searchCriteria[filter_groups][0][filters][0][value]": time.strftime(COMMERCE_TIME, time.gmtime(since)),
                "searchCriteria[filter_groups][0][filters][0][condition_type]": "gteq",
                "searchCriteria[sortOrders][0][field]": "updated_at",
                "searchCriteria[sortOrders][0][direction]": "ASC",
                "searchCriteria[sortOrders][1][field]": "entity_id",
                "searchCriteria[sortOrders][1][direction]": "ASC",
                "searchCriteria[pageSize]": str(page_size),
                "searchCriteria[currentPage]": str(page),
                "fields": SEARCH_FIELDS,
            },
        )
        items = body.get("items") if isinstance(body, dict) else None
        total = body.get("total_count") if isinstance(body, dict) else None
        if not isinstance(items, list) or not isinstance(total, int):
            raise UpstreamUnavailable(SERVICE, "order search came back malformed")
        return [_commerce_order(item, "a searched order") for item in items], total

    def order_state(self, entity_id: int, deadline: Deadline) -> OrderState:
        """State, status and audit comments: what a write-back must check before and after it writes."""
        body = self._request("GET", f"/orders/{entity_id}", deadline, params={"fields": WRITE_BACK_FIELDS})
        if not isinstance(body, dict):
            raise UpstreamUnavailable(SERVICE, f"order {entity_id} came back malformed")
        histories = body.get("status_histories") or []
        return OrderState(
            increment_id=body.get("increment_id"),
            state=body.get("state"),
            status=body.get("status"),
            comments=tuple(str(h.get("comment", "")) for h in histories if isinstance(h, dict)),
        )

    def states_of(self, entity_ids: list[int], deadline: Deadline) -> dict[int, str | None]:
        """The state of each of these orders, in one search call (orders Commerce does not return are left out)."""
        ids = ",".join(str(entity_id) for entity_id in entity_ids)
        body = self._request(
            "GET",
            "/orders",
            deadline,
            params={
                "searchCriteria[filter_groups][0][filters][0][field]": "entity_id",
                "searchCriteria[filter_groups][0][filters][0][value]": ids,
                "searchCriteria[filter_groups][0][filters][0][condition_type]": "in",
                "searchCriteria[pageSize]": str(len(entity_ids)),
                "searchCriteria[currentPage]": "1",
                "fields": "items[entity_id,state],total_count",
            },
        )
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise UpstreamUnavailable(SERVICE, "order search came back malformed")
        states: dict[int, str | None] = {}
        for item in items:
            try:
                states[int(item["entity_id"])] = item.get("state")
            except (KeyError, TypeError, ValueError):
                raise UpstreamUnavailable(SERVICE, "order search came back malformed") from None
        return states

    def set_state_and_status(
        self, entity_id: int, increment_id: str, state: str, status: str, deadline: Deadline
    ) -> None:
        """``POST /V1/orders``: the only call that sets both (comments cannot, on 2.4.7+).

        ``increment_id`` always goes with it: some versions regenerate it when it is missing.
        """
        entity = {"entity_id": entity_id, "increment_id": increment_id, "state": state, "status": status}
        self._request("POST", "/orders", deadline, json_body={"entity": entity})

    def add_comment(self, entity_id: int, comment: str, deadline: Deadline) -> None:
        """An audit comment for admins only: no status (it would be refused) and no e-mail to the Amazon buyer."""
        history = {"comment": comment, "is_customer_notified": 0, "is_visible_on_front": 0, "parent_id": entity_id}
        self._request("POST", f"/orders/{entity_id}/comments", deadline, json_body={"statusHistory": history})

    def may(self, method: str, path: str, deadline: Deadline) -> bool:
        """Whether the integration's ACL lets it call this route, found out without changing anything.

        Commerce checks the ACL before it reads the request: an empty body is refused as unauthorized (401) when
        the integration lacks the resource, and as invalid (400, or 404 for order 0) when it has it.
        """
        try:
            self._request_once(method, path, deadline, None, {})
        except UpstreamRejected as exc:
            if exc.status == 401:
                return False
            if exc.status in (400, 404):
                return True
            raise
        return True

    def registered_webhooks(self, deadline: Deadline) -> list[dict[str, Any]]:
        """``GET /rest/all/V1/webhooks/list`` (Adobe Commerce Webhooks 1.5 and later; ``webhooks_list`` ACL)."""
        body = self._request("GET", "/webhooks/list", deadline, api=self._all_stores_api)
        if not isinstance(body, list):
            raise UpstreamUnavailable(SERVICE, "the webhooks list came back malformed")
        return [hook for hook in body if isinstance(hook, dict)]

    def check_access(self, deadline: Deadline) -> None:
        """An authenticated read of one order page: proves URL, credentials and the Sales ACL."""
        self._request(
            "GET",
            "/orders",
            deadline,
            params={"searchCriteria[pageSize]": "1", "fields": "total_count"},
        )

    def _request(
        self,
        method: str,
        path: str,
        deadline: Deadline,
        *,
        params: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
        api: str | None = None,
    ) -> Any:
        """One call, retried on transient faults while the deadline allows (every call here is idempotent)."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._request_once(method, path, deadline, params, json_body, api)
            except UpstreamUnavailable:
                if attempt >= 3 or not sleep_before_retry(attempt, deadline, reserve=0.2):
                    raise

    def _request_once(
        self,
        method: str,
        path: str,
        deadline: Deadline,
        params: dict[str, str] | None,
        json_body: dict[str, Any] | None,
        api: str | None = None,
    ) -> Any:
        started = time.monotonic()
        try:
            response = self._session.request(
                method,
                (api or self._api) + path,
                params=params,
                json=json_body,
                auth=self._auth,
                timeout=deadline.timeout(CALL_TIMEOUT, SERVICE),
                headers={"Accept": "application/json"},
            )
        except requests.Timeout:
            COMMERCE_CALLS.labels("timeout").inc()
            raise UpstreamUnavailable(SERVICE, f"{method} {path} timed out") from None
        except requests.ConnectionError:
            COMMERCE_CALLS.labels("no_connection").inc()
            raise UpstreamUnavailable(SERVICE, f"{method} {path}: cannot connect") from None
        except (requests.RequestException, ValueError) as exc:  # never echo the message: it may quote a header
            COMMERCE_CALLS.labels("not_sent").inc()
            raise UpstreamUnavailable(SERVICE, f"request could not be sent ({exc.__class__.__name__})") from None
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
