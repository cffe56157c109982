"""What the bridge needs to know about an Amazon order, independent of the API version that told it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FulfillmentStatus(StrEnum):
    """Orders API v2026-01-01 ``FulfillmentStatus`` (note the double L in CANCELLED)."""

    PENDING_AVAILABILITY = "PENDING_AVAILABILITY"
    PENDING = "PENDING"
    UNSHIPPED = "UNSHIPPED"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    SHIPPED = "SHIPPED"
    CANCELLED = "CANCELLED"
    UNFULFILLABLE = "UNFULFILLABLE"


class FulfilledBy(StrEnum):
    MERCHANT = "MERCHANT"
    AMAZON = "AMAZON"


@dataclass(frozen=True)
class OrderLine:
    """One item of an order, as the order details page shows it."""

    item_id: str
    sku: str | None
    title: str | None
    quantity: int


@dataclass(frozen=True)
class AmazonOrder:
    """An Amazon order's identity, status and items, as Amazon reported it."""

    order_id: str
    marketplace_id: str | None
    status: str
    fulfilled_by: str | None
    item_ids: tuple[str, ...]
    buyer_requested_cancel: bool
    last_updated: float | None = None  # Amazon's lastUpdatedTime, epoch seconds
    buyer_cancel_reason: str | None = None  # the buyer's words, when they asked Amazon to cancel
    cancelled_by: str | None = None  # BUYER, MERCHANT or AMAZON, once canceled
    cancel_reason: str | None = None  # the reason Amazon gives for the cancel
    lines: tuple[OrderLine, ...] = ()
    created: float | None = None  # Amazon's createdTime, epoch seconds


class CancelledBy(StrEnum):
    """Who executed an Amazon order's cancel (``cancellationExecution.cancelledBy``)."""

    BUYER = "BUYER"
    MERCHANT = "MERCHANT"  # the seller, in Seller Central (or through a feed)
    AMAZON = "AMAZON"
