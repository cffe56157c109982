"""A Commerce sales order, reduced to what tells whether and where it came from Amazon (``order_importers``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class CommerceState(StrEnum):
    """Commerce's order states (``sales_order.state``): the ones the bridge reads or writes."""

    NEW = "new"
    PENDING_PAYMENT = "pending_payment"
    PROCESSING = "processing"
    HOLDED = "holded"
    PAYMENT_REVIEW = "payment_review"
    CANCELED = "canceled"  # once Commerce's cancel ran
    COMPLETE = "complete"  # what the bridge writes back once Amazon confirms
    CLOSED = "closed"


OPEN_STATES = frozenset(
    {CommerceState.NEW, CommerceState.PENDING_PAYMENT, CommerceState.PROCESSING, CommerceState.HOLDED,
     CommerceState.PAYMENT_REVIEW}
)  # fmt: skip

# The states whose orders Commerce's own cancel (``Order::canCancel()``) lets through; it refuses held orders (often
# a fraud review), orders in payment review, and canceled, complete and closed (refunded) ones.
CANCELABLE_STATES = frozenset({CommerceState.NEW, CommerceState.PENDING_PAYMENT, CommerceState.PROCESSING})


@dataclass(frozen=True)
class CommerceOrder:
    entity_id: int
    increment_id: str | None
    state: str | None
    status: str | None
    store_id: int | None
    payment_method: str | None
    po_number: str | None
    updated_at: float | None = None  # Commerce's updated_at, epoch seconds
    # The payment's additional information by key (``extension_attributes.payment_additional_info``), and the order's
    # external id: where importers other than Amazon Sales Channel keep the channel and its order id.
    payment_info: Mapping[str, str] = field(default_factory=dict)
    ext_order_id: str | None = None
