"""Orders API v2026-01-01: read an order's status, fulfiller, items and cancellation requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from marshmallow import fields

from bridge.clients.spapi import AmazonAnswer, SpApiClient, load_answer
from bridge.clients.spapi_operations import GET_ORDER, SEARCH_ORDERS
from bridge.deadline import Deadline
from bridge.domain.amazon_order import AmazonOrder, OrderLine
from bridge.domain.stores import Store

INCLUDED_DATA = "FULFILLMENT,CANCELLATION"


class _CancellationRequestSchema(AmazonAnswer):
    requester = fields.String(load_default=None, allow_none=True)
    cancelReason = fields.String(load_default=None, allow_none=True)


class _CancellationExecutionSchema(AmazonAnswer):
    cancelledBy = fields.String(load_default=None, allow_none=True)
    cancelReason = fields.String(load_default=None, allow_none=True)


class _ItemCancellationSchema(AmazonAnswer):
    cancellationRequest = fields.Nested(_CancellationRequestSchema, load_default=None, allow_none=True)
    cancellationExecution = fields.Nested(_CancellationExecutionSchema, load_default=None, allow_none=True)


class _ItemProductSchema(AmazonAnswer):
    sellerSku = fields.String(load_default=None, allow_none=True)
    title = fields.String(load_default=None, allow_none=True)


class _OrderItemSchema(AmazonAnswer):
    orderItemId = fields.String(required=True)
    quantityOrdered = fields.Integer(load_default=0)
    product = fields.Nested(_ItemProductSchema, load_default=dict)
    cancellation = fields.Nested(_ItemCancellationSchema, load_default=None, allow_none=True)


class _FulfillmentSchema(AmazonAnswer):
    fulfillmentStatus = fields.String(required=True)
    fulfilledBy = fields.String(load_default=None, allow_none=True)


class _SalesChannelSchema(AmazonAnswer):
    marketplaceId = fields.String(load_default=None, allow_none=True)


class _OrderSchema(AmazonAnswer):
    orderId = fields.String(required=True)
    createdTime = fields.AwareDateTime(load_default=None, allow_none=True, default_timezone=UTC)
    lastUpdatedTime = fields.AwareDateTime(load_default=None, allow_none=True, default_timezone=UTC)
    salesChannel = fields.Nested(_SalesChannelSchema, load_default=dict)
    fulfillment = fields.Nested(_FulfillmentSchema, required=True)
    orderItems = fields.List(fields.Nested(_OrderItemSchema), load_default=list)


class _GetOrderResponseSchema(AmazonAnswer):
    order = fields.Nested(_OrderSchema, required=True)


class _PaginationSchema(AmazonAnswer):
    nextToken = fields.String(load_default=None, allow_none=True)


class _SearchOrdersResponseSchema(AmazonAnswer):
    orders = fields.List(fields.Nested(_OrderSchema), required=True)
    pagination = fields.Nested(_PaginationSchema, load_default=None, allow_none=True)
    lastUpdatedBefore = fields.AwareDateTime(load_default=None, allow_none=True, default_timezone=UTC)
    createdBefore = fields.AwareDateTime(load_default=None, allow_none=True, default_timezone=UTC)


@dataclass(frozen=True)
class OrderSearch:
    """Every order one search returned, and the time up to which Amazon says it is complete. ``complete`` is False
    when pages were left unread (``max_pages`` reached): the orders read are true, but not all there is."""

    orders: list[AmazonOrder]
    complete_until: datetime | None
    pages: int
    complete: bool = True


def _first(items: list[dict[str, Any]], part: str, key: str) -> str | None:
    """The first item's ``cancellation.<part>.<key>`` that has one (an order is canceled or asked for as a whole)."""
    for item in items:
        value = ((item.get("cancellation") or {}).get(part) or {}).get(key)
        if value:
            return str(value)
    return None


def to_amazon_order(data: dict[str, Any]) -> AmazonOrder:
    items = data["orderItems"]
    buyer_asked = _first(items, "cancellationRequest", "requester") == "BUYER"
    return AmazonOrder(
        order_id=data["orderId"],
        marketplace_id=data["salesChannel"].get("marketplaceId"),
        status=data["fulfillment"]["fulfillmentStatus"],
        fulfilled_by=data["fulfillment"].get("fulfilledBy"),
        item_ids=tuple(item["orderItemId"] for item in items),
        last_updated=data["lastUpdatedTime"].timestamp() if data.get("lastUpdatedTime") else None,
        buyer_requested_cancel=buyer_asked,
        buyer_cancel_reason=_first(items, "cancellationRequest", "cancelReason") if buyer_asked else None,
        cancelled_by=_first(items, "cancellationExecution", "cancelledBy"),
        cancel_reason=_first(items, "cancellationExecution", "cancelReason"),
        lines=tuple(
            OrderLine(item["orderItemId"], item["product"].get("sellerSku"), item["product"].get("title"),
                      item["quantityOrdered"])
            for item in items
        ),
        created=data["createdTime"].timestamp() if data.get("createdTime") else None,
    )  # fmt: skip


class OrdersApi:
    def __init__(self, client: SpApiClient) -> None:
        self._client = client

    def get_order(self, store: Store, order_id: str, deadline: Deadline) -> AmazonOrder:
        body = self._client.call(
            store,
            GET_ORDER,
            deadline,
            path_params={"orderId": order_id},
            params={"includedData": INCLUDED_DATA},
        )
        data = load_answer(_GetOrderResponseSchema(), body, f"getOrder {order_id}")
        return to_amazon_order(data["order"])

    def probe_search(self, store: Store, deadline: Deadline) -> None:
        """One searchOrders call for a single order of the last day: proves the app may read the seller's orders."""
        since = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        params = {"createdAfter": since, "marketplaceIds": store.marketplace_id, "maxResultsPerPage": "1"}
        self._client.call(store, SEARCH_ORDERS, deadline, params=params)

    def search_orders(
        self,
        store: Store,
        deadline: Deadline,
        *,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        updated_after: datetime | None = None,
        max_pages: int = 50,
    ) -> OrderSearch:
        """Every order of the store's marketplace created (up to ``created_before``) or updated since then, whoever
        fulfills it and whatever its status: the mirror keeps them all (the console lists them; the cancel rule
        refuses what the bridge may not cancel). Up to ``max_pages`` pages.

        Exactly one of ``created_after`` / ``updated_after``, as Amazon requires.
        """
        if (created_after is None) == (updated_after is None):
            raise ValueError("searchOrders takes exactly one of created_after and updated_after")
        since = created_after or updated_after
        assert since is not None
        params = {
            "createdAfter" if created_after else "lastUpdatedAfter": _iso(since),
            "marketplaceIds": store.marketplace_id,
            "maxResultsPerPage": "100",
            "includedData": INCLUDED_DATA,
        }
        if created_before is not None:
            params["createdBefore"] = _iso(created_before)
        orders: list[AmazonOrder] = []
        complete_until: datetime | None = None
        for page in range(1, max_pages + 1):
            body = self._client.call(store, SEARCH_ORDERS, deadline, params=params)
            data = load_answer(_SearchOrdersResponseSchema(), body, "searchOrders")
            if page == 1:
                complete_until = data["lastUpdatedBefore"] or data["createdBefore"]
            orders.extend(to_amazon_order(order) for order in data["orders"])
            token = (data["pagination"] or {}).get("nextToken")
            if not token:
                return OrderSearch(orders, complete_until, page)
            params = {**params, "paginationToken": token}
        return OrderSearch(orders, complete_until, max_pages, complete=False)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
