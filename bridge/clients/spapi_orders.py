"""Orders API v2026-01-01: read an order's status, fulfiller, items and cancellation requests."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields

from bridge.amazon_order import AmazonOrder
from bridge.clients.deadline import Deadline
from bridge.clients.spapi import SERVICE, SpApiClient
from bridge.clients.spapi_operations import GET_ORDER
from bridge.errors import UpstreamUnavailable
from bridge.stores import Store

INCLUDED_DATA = "FULFILLMENT,CANCELLATION"


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


class _CancellationRequestSchema(_Lenient):
    requester = fields.String(load_default=None, allow_none=True)


class _ItemCancellationSchema(_Lenient):
    cancellationRequest = fields.Nested(_CancellationRequestSchema, load_default=None, allow_none=True)


class _OrderItemSchema(_Lenient):
    orderItemId = fields.String(required=True)
    cancellation = fields.Nested(_ItemCancellationSchema, load_default=None, allow_none=True)


class _FulfillmentSchema(_Lenient):
    fulfillmentStatus = fields.String(required=True)
    fulfilledBy = fields.String(load_default=None, allow_none=True)


class _SalesChannelSchema(_Lenient):
    marketplaceId = fields.String(load_default=None, allow_none=True)


class _OrderSchema(_Lenient):
    orderId = fields.String(required=True)
    salesChannel = fields.Nested(_SalesChannelSchema, load_default=dict)
    fulfillment = fields.Nested(_FulfillmentSchema, required=True)
    orderItems = fields.List(fields.Nested(_OrderItemSchema), load_default=list)


class _GetOrderResponseSchema(_Lenient):
    order = fields.Nested(_OrderSchema, required=True)


def to_amazon_order(data: dict[str, Any]) -> AmazonOrder:
    items = data["orderItems"]
    return AmazonOrder(
        order_id=data["orderId"],
        marketplace_id=data["salesChannel"].get("marketplaceId"),
        status=data["fulfillment"]["fulfillmentStatus"],
        fulfilled_by=data["fulfillment"].get("fulfilledBy"),
        item_ids=tuple(item["orderItemId"] for item in items),
        buyer_requested_cancel=any(
            ((item.get("cancellation") or {}).get("cancellationRequest") or {}).get("requester") == "BUYER"
            for item in items
        ),
    )


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
        try:
            data = _GetOrderResponseSchema().load(body)
        except ValidationError as exc:
            raise UpstreamUnavailable(SERVICE, f"getOrder {order_id}: malformed answer {exc.messages}") from None
        return to_amazon_order(data["order"])
