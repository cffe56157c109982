"""The business rule: which Amazon orders may be canceled at Amazon, whichever door the cancel came through.

From Adobe's Amazon Sales Channel guide ("Cancel an unshipped order") and Amazon's own rules: only seller-fulfilled
orders that are Unshipped can be canceled from Commerce, and only when order import is on for their Amazon store.
Every door asks here: Commerce's hooks, the console, the API, a buyer's request the bridge acts on, and the worker
again before anything is sent. The checks run cheapest first (the store, the Commerce order), so a refusal that
needs no Amazon call spends none of Amazon's quota.

The Commerce order's state matters only to a cancel the bridge starts itself: a cancel made in Commerce is decided
there by Commerce's own ``canCancel()`` (held, payment review, closed, canceled and complete orders are refused),
and the bridge sends nothing until it has seen that order canceled.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bridge.domain.amazon_order import AmazonOrder, FulfilledBy, FulfillmentStatus
from bridge.domain.cancel_reasons import CancelReason, allowed_reasons
from bridge.domain.commerce_order import CANCELABLE_STATES, CommerceState
from bridge.domain.messages import MessageKey
from bridge.domain.states import STARTED_AT_BRIDGE, Source
from bridge.domain.stores import Store


class Outcome(StrEnum):
    ACCEPT = "accept"  # send the cancel to Amazon
    ALREADY_CANCELLED = "already_cancelled"  # nothing to send; still write Complete back to Commerce
    REFUSE = "refuse"  # stop the cancel and say why


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    message_key: MessageKey | None = None

    @property
    def code(self) -> str:
        """What a tool reads: the outcome when the cancel goes on, else what refused it."""
        return self.message_key.value if self.message_key else self.outcome.value


_REFUSALS_BY_STATUS = {
    FulfillmentStatus.PENDING: MessageKey.PENDING,
    FulfillmentStatus.PARTIALLY_SHIPPED: MessageKey.PARTIALLY_SHIPPED,
    FulfillmentStatus.SHIPPED: MessageKey.SHIPPED,
}
# The refusals that come from the store's configuration, and from Amazon's status of the order.
STORE_REFUSALS = frozenset({MessageKey.STORE_NOT_CONFIGURED, MessageKey.ORDER_IMPORT_OFF})
AMAZON_STATUS_REFUSALS = frozenset({*_REFUSALS_BY_STATUS.values(), MessageKey.NOT_CANCELABLE})
# What the admin is told for each Commerce state that Commerce's own cancel refuses.
_REFUSALS_BY_COMMERCE_STATE = {
    CommerceState.HOLDED: MessageKey.COMMERCE_ON_HOLD,
    CommerceState.PAYMENT_REVIEW: MessageKey.COMMERCE_PAYMENT_REVIEW,
    CommerceState.CLOSED: MessageKey.COMMERCE_CLOSED,
    CommerceState.CANCELED: MessageKey.COMMERCE_CANCELED,
    CommerceState.COMPLETE: MessageKey.COMMERCE_COMPLETE,
}
# The refusals that come from the Commerce order, whatever its state: the API answers them all alike.
COMMERCE_REFUSALS = frozenset({*_REFUSALS_BY_COMMERCE_STATE.values(), MessageKey.COMMERCE_NOT_CANCELABLE})


def check_store(store: Store | None) -> Decision | None:
    """Refuse before asking Amazon when the bridge may not act for this store; None lets the check go on."""
    if store is None:
        return Decision(Outcome.REFUSE, MessageKey.STORE_NOT_CONFIGURED)
    if not store.order_import:
        return Decision(Outcome.REFUSE, MessageKey.ORDER_IMPORT_OFF)
    return None


def check_commerce_order(source: Source | str, commerce_state: str | None) -> Decision | None:
    """A cancel the bridge starts goes on only for an order Commerce itself could cancel (``commerce_state`` read
    live, or from a fresh mirror). Commerce's own cancel is decided by Commerce: None lets the check go on."""
    if source not in STARTED_AT_BRIDGE or commerce_state in CANCELABLE_STATES:
        return None
    key = _REFUSALS_BY_COMMERCE_STATE.get(commerce_state or "", MessageKey.COMMERCE_NOT_CANCELABLE)
    return Decision(Outcome.REFUSE, key)


def judge_amazon_order(order: AmazonOrder) -> Decision:
    """Decide from Amazon's view of the order."""
    if order.fulfilled_by == FulfilledBy.AMAZON:
        return Decision(Outcome.REFUSE, MessageKey.AMAZON_FULFILLED)
    if order.status == FulfillmentStatus.CANCELLED:
        return Decision(Outcome.ALREADY_CANCELLED)
    if order.status == FulfillmentStatus.UNSHIPPED and order.fulfilled_by == FulfilledBy.MERCHANT:
        return Decision(Outcome.ACCEPT)
    return Decision(Outcome.REFUSE, _REFUSALS_BY_STATUS.get(order.status, MessageKey.NOT_CANCELABLE))


def check_reason(reason: CancelReason, order: AmazonOrder) -> Decision | None:
    """The reason must fit the order: ``BuyerCanceled`` only where Amazon shows the buyer asked."""
    if reason in allowed_reasons(order.buyer_requested_cancel):
        return None
    return Decision(Outcome.REFUSE, MessageKey.REASON_NOT_ALLOWED)


def before_amazon(store: Store | None, source: Source | str, commerce_state: str | None) -> Decision | None:
    """The checks that need no Amazon call; None when Amazon must be asked."""
    return check_store(store) or check_commerce_order(source, commerce_state)


def decide(
    store: Store | None,
    source: Source | str,
    commerce_state: str | None,
    order: AmazonOrder,
    reason: CancelReason,
) -> Decision:
    """The whole rule, for a cancel from ``source`` of ``order`` (Amazon's view) with ``reason``."""
    refusal = before_amazon(store, source, commerce_state)
    if refusal is not None:
        return refusal
    verdict = judge_amazon_order(order)
    if verdict.outcome is not Outcome.ACCEPT:
        return verdict
    return check_reason(reason, order) or verdict


def may_overwrite_with_complete(source: Source | str, commerce_state: str | None) -> bool:
    """Whether the write-back may set the Commerce order Complete once Amazon shows it canceled.

    Never over a closed order (refunded: a comment only). A cancel the bridge started never writes Complete over an
    order Commerce could not have canceled (put on hold or in review meanwhile). Commerce's own cancels and the
    cancels made at Amazon outside the bridge are reflected as Adobe's Amazon Sales Channel reflects them.
    """
    if commerce_state == CommerceState.CLOSED:
        return False
    if source in STARTED_AT_BRIDGE:
        return commerce_state in CANCELABLE_STATES | {CommerceState.CANCELED, CommerceState.COMPLETE}
    return True
