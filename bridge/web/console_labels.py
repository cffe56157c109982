"""The words the console uses for the bridge's codes: request states, Amazon's cancel reasons and statuses, roles.

Lazy strings, translated when rendered, in the signed-in user's language.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from bridge.domain.amazon_order import CancelledBy, FulfillmentStatus
from bridge.domain.cancel_reasons import CancelReason
from bridge.domain.reconciliation import DriftKind
from bridge.domain.states import RequestState, Source

REQUEST_STATES: dict[str, LazyString] = {
    RequestState.AWAITING_COMMERCE: _l("Waiting for Commerce to cancel"),
    RequestState.PENDING: _l("Checking the order at Amazon"),
    RequestState.READY: _l("Waiting for the next feed"),
    RequestState.IN_FEED: _l("Being sent to Amazon"),
    RequestState.SUBMITTED: _l("Amazon is processing the feed"),
    RequestState.CONFIRMING: _l("Waiting for Amazon to show it canceled"),
    RequestState.CANCELLED_AT_AMAZON: _l("Canceled at Amazon; updating Commerce"),
    RequestState.COMPLETED: _l("Canceled at Amazon; Complete in Commerce"),
    RequestState.REJECTING: _l("Amazon did not cancel; noting it in Commerce"),
    RequestState.REJECTED: _l("Amazon did not cancel"),
    RequestState.FAILED: _l("Failed: an operator must decide"),
    RequestState.NOT_CANCELED_IN_COMMERCE: _l("Commerce did not cancel: nothing sent to Amazon"),
}

# Amazon's ten reasons in plain words; NoInventory is the one that keeps the units out of stock.
CANCEL_REASONS: dict[str, LazyString] = {
    CancelReason.NO_INVENTORY: _l("Out of stock (the units stay out of stock)"),
    CancelReason.SHIPPING_ADDRESS_UNDELIVERABLE: _l("Shipping address undeliverable"),
    CancelReason.CUSTOMER_EXCHANGE: _l("Customer exchange"),
    CancelReason.BUYER_CANCELED: _l("Buyer canceled"),
    CancelReason.GENERAL_ADJUSTMENT: _l("General adjustment"),
    CancelReason.CARRIER_CREDIT_DECISION: _l("Carrier credit decision"),
    CancelReason.RISK_ASSESSMENT_INFORMATION_NOT_VALID: _l("Risk assessment information not valid"),
    CancelReason.CARRIER_COVERAGE_FAILURE: _l("Carrier coverage failure"),
    CancelReason.CUSTOMER_RETURN: _l("Customer return"),
    CancelReason.MERCHANDISE_NOT_RECEIVED: _l("Merchandise not received"),
}

# What each reason tells Amazon, as the seller chooses one (bridge.domain.cancel_reasons.MEANINGS, translated).
REASON_MEANINGS: dict[str, LazyString] = {
    CancelReason.NO_INVENTORY: _l("You cannot ship it: out of stock. The canceled units are not put back in stock."),
    CancelReason.SHIPPING_ADDRESS_UNDELIVERABLE: _l("The shipping address cannot be delivered to."),
    CancelReason.CUSTOMER_EXCHANGE: _l("The buyer is exchanging the order for another item."),
    CancelReason.BUYER_CANCELED: _l(
        "The buyer asked Amazon to cancel: does not count toward your cancellation rate. Offered only when the buyer "
        "asked."
    ),
    CancelReason.GENERAL_ADJUSTMENT: _l("A general adjustment on your side, such as a pricing error."),
    CancelReason.CARRIER_CREDIT_DECISION: _l("The carrier refused credit for the shipment."),
    CancelReason.RISK_ASSESSMENT_INFORMATION_NOT_VALID: _l("The order failed your risk or fraud assessment."),
    CancelReason.CARRIER_COVERAGE_FAILURE: _l("No carrier you use delivers to the address."),
    CancelReason.CUSTOMER_RETURN: _l("The buyer is returning the items."),
    CancelReason.MERCHANDISE_NOT_RECEIVED: _l("The merchandise was not received."),
}

# Why a rejected request has no Retry, and what to do instead.
REJECTED_GUIDANCE = _l(
    "Amazon refused it, or the order is no longer Unshipped there: handle it in Amazon Seller Central. Once what "
    "stopped it is fixed (a hold released in Commerce, say), cancel the order again."
)

AMAZON_STATUSES: dict[str, LazyString] = {
    FulfillmentStatus.PENDING_AVAILABILITY: _l("Pending availability"),
    FulfillmentStatus.PENDING: _l("Pending"),
    FulfillmentStatus.UNSHIPPED: _l("Unshipped"),
    FulfillmentStatus.PARTIALLY_SHIPPED: _l("Partially shipped"),
    FulfillmentStatus.SHIPPED: _l("Shipped"),
    FulfillmentStatus.CANCELLED: _l("Canceled"),
    FulfillmentStatus.UNFULFILLABLE: _l("Unfulfillable"),
}

FULFILLED_BY: dict[str, LazyString] = {"MERCHANT": _l("Seller"), "AMAZON": _l("Amazon (FBA)")}

CANCELLED_BY: dict[str, LazyString] = {
    CancelledBy.BUYER: _l("the buyer"),
    CancelledBy.MERCHANT: _l("the seller"),
    CancelledBy.AMAZON: _l("Amazon"),
}

SOURCES: dict[str, LazyString] = {
    Source.COMMERCE: _l("Commerce admin"),
    Source.AMAZON: _l("At Amazon, outside the bridge"),
    Source.BUYER_REQUEST: _l("Buyer's request"),
    Source.CONSOLE: _l("Console"),
    Source.API: _l("API"),
}

ROLES: dict[str, LazyString] = {"viewer": _l("viewer"), "operator": _l("operator")}

DRIFTS: dict[str, LazyString] = {
    DriftKind.CANCELED_IN_COMMERCE_ONLY: _l(
        "Canceled (or Complete) in Commerce, not at Amazon: check the order in Seller Central; it may ship."
    ),
    DriftKind.CANCELED_AT_AMAZON_ONLY: _l("Canceled at Amazon, still open in Commerce: close it in Commerce."),
}


# What a move in a request's timeline means, where saying it as an event reads better than the state reached.
TIMELINE_STEPS: dict[tuple[str | None, str], LazyString] = {
    (None, RequestState.AWAITING_COMMERCE): _l("Accepted by the bridge (Commerce's before hook); waiting for Commerce"),
    (RequestState.AWAITING_COMMERCE, RequestState.PENDING): _l("Commerce canceled the order; checking it at Amazon"),
    (None, RequestState.PENDING): _l("Cancel asked for; checking the order at Amazon"),
    (RequestState.PENDING, RequestState.READY): _l("Still Unshipped at Amazon; waiting for the next feed"),
    (RequestState.READY, RequestState.IN_FEED): _l("Put in a feed for Amazon"),
    (RequestState.IN_FEED, RequestState.SUBMITTED): _l("Amazon accepted the feed"),
    (RequestState.SUBMITTED, RequestState.CONFIRMING): _l("Amazon's processing report: no error"),
    (RequestState.CONFIRMING, RequestState.CANCELLED_AT_AMAZON): _l("Amazon shows the order canceled"),
    (RequestState.CANCELLED_AT_AMAZON, RequestState.COMPLETED): _l(
        "Commerce order set to Complete, with an audit comment"
    ),
}


def timeline_step(previous: str | None, state: str) -> str:
    """The words for one move of a request, knowing where it came from."""
    words = TIMELINE_STEPS.get((previous, state))
    return str(words) if words is not None else label(REQUEST_STATES, state)


def label(labels: dict[str, LazyString], code: str | None) -> str:
    """The words for ``code``, or the code itself when it is one the console has no words for."""
    if code is None:
        return "-"
    return str(labels[code]) if code in labels else code
