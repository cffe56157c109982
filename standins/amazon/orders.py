"""Amazon orders as the stand-in keeps them, rendered in the Orders API v2026-01-01 shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

INCLUDED_DATA = {
    "BUYER",
    "RECIPIENT",
    "PROCEEDS",
    "EXPENSE",
    "PROMOTION",
    "CANCELLATION",
    "FULFILLMENT",
    "PACKAGES",
    "TAX",
    "PAYMENT",
    "FULFILLMENT_ORDERS",
}
FULFILLMENT_STATUSES = {
    "PENDING_AVAILABILITY",
    "PENDING",
    "UNSHIPPED",
    "PARTIALLY_SHIPPED",
    "SHIPPED",
    "CANCELLED",
    "UNFULFILLABLE",
}


def iso_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class StandInOrder:
    """An order as the stand-in keeps it; ``to_json`` renders it in the v2026-01-01 shape."""

    order_id: str
    seller_id: str
    marketplace_id: str
    status: str = "UNSHIPPED"
    fulfilled_by: str = "MERCHANT"
    item_ids: list[str] = field(default_factory=list)
    buyer_requested_cancel: bool = False
    buyer_cancel_reason: str = "Ordered by mistake"
    cancelled_by: str | None = None
    cancel_reason: str | None = None
    created: datetime = field(default_factory=lambda: datetime.now(UTC) - timedelta(hours=2))
    updated: datetime = field(default_factory=lambda: datetime.now(UTC) - timedelta(hours=1))

    def to_json(self, included: set[str]) -> dict[str, Any]:
        items = []
        for index, item_id in enumerate(self.item_ids, start=1):
            item: dict[str, Any] = {
                "orderItemId": item_id,
                "quantityOrdered": 1,
                "product": {"asin": f"B0STANDIN{index:02d}", "sellerSku": f"SKU-{index}", "title": f"Item {index}"},
            }
            if "CANCELLATION" in included:
                cancellation: dict[str, Any] = {}
                if self.buyer_requested_cancel:
                    cancellation["cancellationRequest"] = {
                        "requester": "BUYER",
                        "cancelReason": self.buyer_cancel_reason,
                    }
                if self.cancelled_by:
                    cancellation["cancellationExecution"] = {
                        "cancelledBy": self.cancelled_by,
                        "cancelReason": self.cancel_reason or "",
                    }
                if cancellation:
                    item["cancellation"] = cancellation
            if "FULFILLMENT" in included:
                shipped = 1 if self.status == "SHIPPED" else 0
                item["fulfillment"] = {"quantityFulfilled": shipped, "quantityUnfulfilled": 1 - shipped}
            items.append(item)
        order: dict[str, Any] = {
            "orderId": self.order_id,
            "createdTime": iso_time(self.created),
            "lastUpdatedTime": iso_time(self.updated),
            "salesChannel": {"channelName": "AMAZON", "marketplaceId": self.marketplace_id},
            "orderItems": items,
        }
        if "FULFILLMENT" in included:
            order["fulfillment"] = {
                "fulfillmentStatus": self.status,
                "fulfilledBy": self.fulfilled_by,
                "fulfillmentServiceLevel": "STANDARD",
            }
        if "BUYER" in included:
            order["buyer"] = {"buyerName": "Stand-in Buyer"}
        return order
