"""The Commerce (Magento) REST endpoints the bridge uses: read orders (one, by number, changed since, their states),
write an order back (state and status, an audit comment), and what the doctor checks (ACLs, registered hooks)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load

from bridge.clients.commerce_transport import SERVICE, CommerceTransport
from bridge.deadline import Deadline
from bridge.domain.commerce_order import CommerceOrder
from bridge.errors import NotFound, UpstreamRejected, UpstreamUnavailable


@dataclass(frozen=True)
class OrderState:
    increment_id: str | None
    state: str | None
    status: str | None
    comments: tuple[str, ...]


# The payment's additional information and the external order id: where importers other than Amazon Sales Channel
# keep the channel and its order id (``bridge.domain.order_importers``).
ORDER_FIELDS = (
    "entity_id,increment_id,state,status,store_id,updated_at,ext_order_id,payment[method,po_number],"
    "extension_attributes[payment_additional_info]"
)
SEARCH_FIELDS = f"items[{ORDER_FIELDS}],total_count"
COMMERCE_TIME = "%Y-%m-%d %H:%M:%S"  # Commerce's datetimes, in UTC
WRITE_BACK_FIELDS = "entity_id,increment_id,state,status,status_histories[comment]"


class _PaymentSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    method = fields.String(load_default=None, allow_none=True)
    po_number = fields.String(load_default=None, allow_none=True)


class _PaymentInfoSchema(Schema):
    """One ``{"key", "value"}`` of ``extension_attributes.payment_additional_info``."""

    class Meta:
        unknown = EXCLUDE

    key = fields.String(required=True)
    value = fields.Raw(load_default=None, allow_none=True)


class _ExtensionAttributesSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    payment_additional_info = fields.List(fields.Nested(_PaymentInfoSchema), load_default=list)


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
    ext_order_id = fields.String(load_default=None, allow_none=True)
    payment = fields.Nested(_PaymentSchema, load_default=dict)
    extension_attributes = fields.Nested(_ExtensionAttributesSchema, load_default=dict)

    @pre_load
    def _empty_payment(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict):
            for part in ("payment", "extension_attributes"):  # PHP's empty object comes as [] (or not at all)
                if data.get(part) in (None, [], ""):
                    data = {**data, part: {}}
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
        payment_info={
            entry["key"]: str(entry["value"])
            for entry in data["extension_attributes"].get("payment_additional_info", [])
            if isinstance(entry["value"], str | int)
        },
        ext_order_id=data["ext_order_id"],
    )


class CommerceClient:
    def __init__(self, transport: CommerceTransport) -> None:
        self._transport = transport

    def get_order(self, entity_id: int, deadline: Deadline) -> CommerceOrder:
        body = self._transport.request("GET", f"/orders/{entity_id}", deadline, params={"fields": ORDER_FIELDS})
        return _commerce_order(body, f"order {entity_id}")

    def orders_with_number(self, increment_id: str, deadline: Deadline) -> list[CommerceOrder]:
        """The orders an admin knows by this number (increment id): one, none, or (where websites number their
        orders alike) two, which is all a caller needs to know it cannot tell which."""
        body = self._transport.request(
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
        body = self._transport.request(
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
        body = self._transport.request("GET", f"/orders/{entity_id}", deadline, params={"fields": WRITE_BACK_FIELDS})
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
        body = self._transport.request(
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
        self._transport.request("POST", "/orders", deadline, json_body={"entity": entity})

    def add_comment(self, entity_id: int, comment: str, deadline: Deadline) -> None:
        """An audit comment for admins only: no status (it would be refused) and no e-mail to the Amazon buyer."""
        history = {"comment": comment, "is_customer_notified": 0, "is_visible_on_front": 0, "parent_id": entity_id}
        self._transport.request("POST", f"/orders/{entity_id}/comments", deadline, json_body={"statusHistory": history})

    def may(self, method: str, path: str, deadline: Deadline) -> bool:
        """Whether the integration's ACL lets it call this route, found out without changing anything.

        Commerce checks the ACL before it reads the request: an empty body is refused as unauthorized (401) when
        the integration lacks the resource, and as invalid (400, or 404 for order 0) when it has it.
        """
        try:
            self._transport.request_once(method, path, deadline, None, {})
        except UpstreamRejected as exc:
            if exc.status == 401:
                return False
            if exc.status in (400, 404):
                return True
            raise
        return True

    def registered_webhooks(self, deadline: Deadline) -> list[dict[str, Any]]:
        """``GET /rest/all/V1/webhooks/list`` (Adobe Commerce Webhooks 1.5 and later; ``webhooks_list`` ACL)."""
        body = self._transport.request("GET", "/webhooks/list", deadline, all_stores=True)
        if not isinstance(body, list):
            raise UpstreamUnavailable(SERVICE, "the webhooks list came back malformed")
        return [hook for hook in body if isinstance(hook, dict)]

    def subscribe_webhook(self, webhook: Mapping[str, Any], deadline: Deadline) -> None:
        """``POST /rest/all/V1/webhooks/subscribe`` (Adobe Commerce Webhooks 1.13.0 and later on PaaS)."""
        self._transport.request("POST", "/webhooks/subscribe", deadline, json_body={"webhook": dict(webhook)},
                                all_stores=True)  # fmt: skip

    def unsubscribe_webhook(self, webhook: Mapping[str, Any], deadline: Deadline) -> None:
        """``POST /rest/all/V1/webhooks/unsubscribe``: the subscription named by method, type, batch and hook."""
        names = {name: webhook.get(name) for name in ("webhook_method", "webhook_type", "batch_name", "hook_name")}
        self._transport.request("POST", "/webhooks/unsubscribe", deadline, json_body={"webhook": names},
                                all_stores=True)  # fmt: skip

    def supported_webhooks(self, deadline: Deadline) -> list[str] | None:
        """``GET /V1/webhooks/supportedList``: the webhook names Adobe Commerce as a Cloud Service supports; None
        where Commerce has no such list (PaaS)."""
        try:
            body = self._transport.request("GET", "/webhooks/supportedList", deadline)
        except NotFound:
            return None
        if not isinstance(body, list):
            return None
        return [str(item.get("name", item)) if isinstance(item, dict) else str(item) for item in body]

    def check_access(self, deadline: Deadline) -> None:
        """An authenticated read of one order page: proves URL, credentials and the Sales ACL."""
        self._transport.request(
            "GET",
            "/orders",
            deadline,
            params={"searchCriteria[pageSize]": "1", "fields": "total_count"},
        )
