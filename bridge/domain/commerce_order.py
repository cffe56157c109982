"""A Commerce sales order, reduced to what tells whether and where it came from Amazon."""

from __future__ import annotations

from dataclasses import dataclass

AMAZON_PAYMENT_METHOD = "amazonpayment"


@dataclass(frozen=True)
class CommerceOrder:
    entity_id: int
    increment_id: str | None
    state: str | None
    status: str | None
    store_id: int | None
    payment_method: str | None
    po_number: str | None

    @property
    def amazon_order_id(self) -> str | None:
        """Amazon Sales Channel orders pay with ``amazonpayment`` and carry the Amazon id in ``po_number``."""
        if self.payment_method == AMAZON_PAYMENT_METHOD and self.po_number:
            return self.po_number
        return None
