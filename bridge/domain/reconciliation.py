"""Keeping Commerce and Amazon true to each other: what to do about an order when the two disagree.

An order pair is one Commerce order and the Amazon order it was imported from, as the two mirrors last saw them,
with the bridge's cancel request for it, if any. While a request is under way the bridge is already bringing the
two together; otherwise a disagreement is either something the bridge reflects (a cancel made at Amazon outside
the bridge, a buyer's request to cancel) or a drift that an operator must see.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from bridge.domain.amazon_order import CancelledBy, FulfilledBy, FulfillmentStatus
from bridge.domain.commerce_order import OPEN_STATES, CommerceState
from bridge.domain.messages import MessageKey
from bridge.domain.states import FINAL_REQUEST_STATES, RequestState

# Amazon statuses of an order that was not canceled: it ships, shipped, or stays open.
NOT_CANCELED_AT_AMAZON = frozenset(status.value for status in FulfillmentStatus) - {FulfillmentStatus.CANCELLED}


class AmazonCancels(StrEnum):
    """``BRIDGE_AMAZON_CANCELS``: what a cancel made at Amazon outside the bridge does to the open Commerce order."""

    COMPLETE = "complete"
    COMMENT = "comment"


class BuyerCancelRequests(StrEnum):
    """``BRIDGE_BUYER_CANCEL_REQUESTS``: flag a buyer's request on the Commerce order, or cancel it at Amazon."""

    FLAG = "flag"
    CANCEL = "cancel"


# What the bridge does about a cancel made at Amazon outside it (the decision recorded with it).
REFLECT_COMPLETE = "complete"  # set the Commerce order Complete, with an audit comment
REFLECT_COMMENT_ONLY = "comment_only"  # the audit comment only: the merchant closes the order


class DriftKind(StrEnum):
    CANCELED_IN_COMMERCE_ONLY = "canceled_in_commerce_only"  # Commerce canceled (or Complete by the bridge); not Amazon
    CANCELED_AT_AMAZON_ONLY = "canceled_at_amazon_only"  # Amazon canceled; the Commerce order is still open


@dataclass(frozen=True)
class OrderPair:
    commerce_entity_id: int
    increment_id: str | None
    commerce_state: str | None
    store_code: str
    amazon_order_id: str
    amazon_status: str
    fulfilled_by: str | None  # MERCHANT or AMAZON (FBA)
    buyer_requested_cancel: bool
    buyer_cancel_reason: str | None
    cancelled_by: str | None
    cancel_reason: str | None
    request_id: int | None
    request_state: str | None

    @property
    def bridge_at_work(self) -> bool:
        """A request under way: the pipeline is already bringing the two systems together."""
        return self.request_state is not None and self.request_state not in FINAL_REQUEST_STATES


@dataclass(frozen=True)
class Drift:
    kind: DriftKind
    pair: OrderPair


def drift_of(pair: OrderPair) -> Drift | None:
    """The disagreement between the two systems over this order, if there is one nobody is working on."""
    if pair.bridge_at_work:
        return None
    if pair.amazon_status == FulfillmentStatus.CANCELLED and pair.commerce_state in OPEN_STATES:
        return Drift(DriftKind.CANCELED_AT_AMAZON_ONLY, pair)
    completed_by_bridge = pair.commerce_state == CommerceState.COMPLETE and pair.request_state == RequestState.COMPLETED
    if pair.amazon_status in NOT_CANCELED_AT_AMAZON and (
        pair.commerce_state == CommerceState.CANCELED or completed_by_bridge
    ):
        return Drift(DriftKind.CANCELED_IN_COMMERCE_ONLY, pair)
    return None


def drifts_among(pairs: Iterable[OrderPair]) -> list[Drift]:
    """Every disagreement nobody is working on, in the order of ``pairs``."""
    return [drift for pair in pairs if (drift := drift_of(pair)) is not None]


def reflects_amazon_cancel(pair: OrderPair) -> bool:
    """Canceled at Amazon outside the bridge (the seller in Seller Central, the buyer, Amazon) while the Commerce
    order is still open, and no cancel of the bridge's own stands for it: Commerce must learn of it. Whoever
    fulfills it: an order Amazon fulfills (FBA) and then cancels will not ship either, and its Commerce copy left
    open would count as a sale to be fulfilled; nothing goes to Amazon, only Commerce follows."""
    no_request_of_its_own = pair.request_state in (None, RequestState.NOT_CANCELED_IN_COMMERCE)
    return (
        pair.amazon_status == FulfillmentStatus.CANCELLED
        and pair.commerce_state in OPEN_STATES
        and no_request_of_its_own
    )


def flags_buyer_request(pair: OrderPair) -> bool:
    """A buyer asked Amazon to cancel a seller-fulfilled order still Unshipped and open in Commerce, which the
    bridge is not canceling already: the admin should know, and that canceling now reports ``BuyerCanceled``. Not
    an order Amazon fulfills (FBA): Amazon handles that request itself, and the bridge could not cancel it."""
    return (
        pair.buyer_requested_cancel
        and pair.fulfilled_by == FulfilledBy.MERCHANT
        and pair.amazon_status == FulfillmentStatus.UNSHIPPED
        and pair.commerce_state in OPEN_STATES
        and pair.request_state is None
    )


def who_canceled(cancelled_by: str | None) -> MessageKey:
    """The words for who canceled at Amazon: the buyer, the seller (in Seller Central), or Amazon itself."""
    return {
        CancelledBy.BUYER: MessageKey.CANCELED_BY_BUYER,
        CancelledBy.MERCHANT: MessageKey.CANCELED_BY_SELLER,
    }.get(cancelled_by or "", MessageKey.CANCELED_BY_AMAZON)
