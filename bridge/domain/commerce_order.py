"""A Commerce sales order, reduced to what tells whether and where it came from Amazon."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
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

# Adobe's Amazon Sales Channel pays its imported orders with this method; other channel tools use others.
AMAZON_PAYMENT_METHODS = ("amazonpayment",)


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

    def amazon_order_id(self, amazon_payment_methods: Collection[str]) -> str | None:
        """An Amazon order pays with one of the channel's payment methods and carries its id in ``po_number``."""
        if self.payment_method in amazon_payment_methods and self.po_number:
            return self.po_number
        return None
