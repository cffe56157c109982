"""Which Commerce orders were imported from Amazon, and the Amazon order id each carries, per importer.

Adobe's Amazon Sales Channel (discontinued on 2024-10-01; its orders remain in stores) pays its orders with
``amazonpayment`` and keeps the Amazon order id in the payment's ``po_number``. M2E Pro, what merchants import Amazon
orders with now, pays with ``m2epropayment`` and keeps the channel (``component_mode``: ``amazon``, ``ebay``,
``walmart``) and the channel's order id (``channel_order_id``) in the payment's additional information
(m2epro/magento2-extension, ``Model/Amazon/Order/ProxyObject::getPaymentData``), which Commerce's REST API shows as
``extension_attributes.payment_additional_info``. Only its Amazon orders are the bridge's: an eBay or Walmart order
passes untouched. An importer that does it differently is described by the settings (``custom``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from bridge.domain.commerce_order import CommerceOrder


class IdFrom(StrEnum):
    """Where an importer keeps the Amazon order id on the Commerce order."""

    PO_NUMBER = "po_number"  # the payment's purchase order number
    PAYMENT_INFO = "payment_info"  # a key of the payment's additional information (``key``)
    INCREMENT_ID = "increment_id"  # the order number itself, after an optional prefix (``key``)
    EXT_ORDER_ID = "ext_order_id"  # the order's external order id


@dataclass(frozen=True)
class Importer:
    name: str
    payment_methods: frozenset[str]
    id_from: IdFrom
    key: str = ""  # PAYMENT_INFO: which key; INCREMENT_ID: the prefix before the Amazon order id
    channel: tuple[str, str] | None = None  # a (key, value) the payment's additional information must hold

    def amazon_order_id(self, order: CommerceOrder) -> str | None:
        """The Amazon order id if this importer made the order from an Amazon order; else None."""
        if order.payment_method not in self.payment_methods:
            return None
        if self.channel is not None and order.payment_info.get(self.channel[0]) != self.channel[1]:
            return None
        found: str | None
        if self.id_from is IdFrom.PO_NUMBER:
            found = order.po_number
        elif self.id_from is IdFrom.PAYMENT_INFO:
            found = order.payment_info.get(self.key)
        elif self.id_from is IdFrom.EXT_ORDER_ID:
            found = order.ext_order_id
        else:
            number = order.increment_id or ""
            found = number.removeprefix(self.key) if number.startswith(self.key) else None
        return found.strip() or None if found else None


AMAZON_SALES_CHANNEL = Importer("amazon_sales_channel", frozenset({"amazonpayment"}), IdFrom.PO_NUMBER)
M2E_PRO = Importer(
    "m2e_pro", frozenset({"m2epropayment"}), IdFrom.PAYMENT_INFO, key="channel_order_id",
    channel=("component_mode", "amazon"),
)  # fmt: skip
DEFAULT_IMPORTERS = (AMAZON_SALES_CHANNEL, M2E_PRO)


def amazon_order_id(order: CommerceOrder, importers: Iterable[Importer]) -> str | None:
    """The Amazon order id of ``order`` by the first importer that recognises it; None: not an Amazon order."""
    for importer in importers:
        found = importer.amazon_order_id(order)
        if found is not None:
            return found
    return None


def parse_id_from(spec: str) -> tuple[IdFrom, str] | None:
    """``BRIDGE_AMAZON_ORDER_ID_FROM``: ``po_number``, ``payment_info:KEY``, ``increment_id[:PREFIX]`` or
    ``ext_order_id``; None when it is none of these."""
    where, _, key = spec.strip().partition(":")
    try:
        id_from = IdFrom(where)
    except ValueError:
        return None
    needs_key = id_from is IdFrom.PAYMENT_INFO  # which key; a prefix is optional; the others take none
    if (needs_key and not key) or (key and id_from in (IdFrom.PO_NUMBER, IdFrom.EXT_ORDER_ID)):
        return None
    return id_from, key
