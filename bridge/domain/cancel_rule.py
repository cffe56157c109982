"""The business rule: which Amazon orders Commerce may cancel, and what the admin is told otherwise.

From Adobe's Amazon Sales Channel guide ("Cancel an unshipped order") and Amazon's own rules:
only seller-fulfilled orders that are Unshipped can be canceled from Commerce, and only when order import
is on for their Amazon store.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bridge.domain.amazon_order import AmazonOrder, FulfilledBy, FulfillmentStatus
from bridge.domain.messages import MessageKey
from bridge.domain.stores import Store


class Outcome(StrEnum):
    ACCEPT = "accept"  # send the cancel to Amazon
    ALREADY_CANCELLED = "already_cancelled"  # nothing to send; still write Complete back to Commerce
    REFUSE = "refuse"  # stop the cancel in Commerce and say why


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    message_key: MessageKey | None = None


_REFUSALS_BY_STATUS = {
    FulfillmentStatus.PENDING: MessageKey.PENDING,
    FulfillmentStatus.PARTIALLY_SHIPPED: MessageKey.PARTIALLY_SHIPPED,
    FulfillmentStatus.SHIPPED: MessageKey.SHIPPED,
}


def check_store(store: Store | None) -> Decision | None:
    """Refuse before asking Amazon when the bridge may not act for this store; None lets the check go on."""
    if store is None:
        return Decision(Outcome.REFUSE, MessageKey.STORE_NOT_CONFIGURED)
    if not store.order_import:
        return Decision(Outcome.REFUSE, MessageKey.ORDER_IMPORT_OFF)
    return None


def judge_amazon_order(order: AmazonOrder) -> Decision:
    """Decide from Amazon's view of the order."""
    if order.fulfilled_by == FulfilledBy.AMAZON:
        return Decision(Outcome.REFUSE, MessageKey.AMAZON_FULFILLED)
    if order.status == FulfillmentStatus.CANCELLED:
        return Decision(Outcome.ALREADY_CANCELLED)
    if order.status == FulfillmentStatus.UNSHIPPED and order.fulfilled_by == FulfilledBy.MERCHANT:
        return Decision(Outcome.ACCEPT)
    return Decision(Outcome.REFUSE, _REFUSALS_BY_STATUS.get(order.status, MessageKey.NOT_CANCELABLE))
