"""The words the console uses for the bridge's codes (request states, Amazon's cancel reasons and statuses, Commerce's
states, feeds, roles), for the messages the bridge records, and for times.

Lazy strings, translated when rendered, in the signed-in user's language. The rule's refusals and the messages the
pipeline records are the domain's own (``bridge.domain.messages``, en_US and it_IT), said here in the user's language
with the codes inside them put in words. Times are the order's marketplace's own, with the zone's abbreviation.
"""

from __future__ import annotations

from datetime import UTC, datetime

from babel.dates import format_datetime
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from bridge.domain.amazon_order import CancelledBy, FulfilledBy, FulfillmentStatus
from bridge.domain.cancel_reasons import CancelReason
from bridge.domain.cancel_rule import Outcome
from bridge.domain.commerce_order import CommerceState
from bridge.domain.locales import DEFAULT_LOCALE
from bridge.domain.marketplaces import local_time
from bridge.domain.messages import (
    AMAZON_FULFILLED,
    REFUSED_BY_RULE,
    STATUS_CHANGED,
    VALUE_NAMES,
    MessageKey,
    recognise,
    render,
)
from bridge.domain.operators import Role
from bridge.domain.reconciliation import DriftKind
from bridge.domain.records import CancelRequest, as_utc
from bridge.domain.states import FeedProcessingStatus, FeedState, RequestState, Source

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

FULFILLED_BY: dict[str, LazyString] = {FulfilledBy.MERCHANT: _l("Seller"), FulfilledBy.AMAZON: _l("Amazon (FBA)")}

# Commerce's own words for its order states (the admin's order grid).
COMMERCE_STATES: dict[str, LazyString] = {
    CommerceState.NEW: _l("New"),
    CommerceState.PENDING_PAYMENT: _l("Pending payment"),
    CommerceState.PROCESSING: _l("Processing"),
    CommerceState.HOLDED: _l("On hold"),
    CommerceState.PAYMENT_REVIEW: _l("Payment review"),
    CommerceState.CANCELED: _l("Canceled"),
    CommerceState.COMPLETE: _l("Complete"),
    CommerceState.CLOSED: _l("Closed"),
}

FEED_PROCESSING: dict[str, LazyString] = {
    FeedProcessingStatus.IN_QUEUE: _l("Waiting in Amazon's queue"),
    FeedProcessingStatus.IN_PROGRESS: _l("Being processed by Amazon"),
    FeedProcessingStatus.DONE: _l("Processed by Amazon"),
    FeedProcessingStatus.CANCELLED: _l("Canceled at Amazon before processing"),
    FeedProcessingStatus.FATAL: _l("Amazon could not process it"),
    FeedProcessingStatus.NOT_FOUND: _l("Not found at Amazon"),
}

FEED_STATES: dict[str, LazyString] = {
    FeedState.PREPARING: _l("Being prepared"),
    FeedState.UPLOADED: _l("Uploaded to Amazon"),
    FeedState.SUBMITTED: _l("Sent to Amazon"),
    FeedState.DONE: _l("Processed by Amazon"),
    FeedState.ABANDONED: _l("Abandoned: its cancels are checked and sent again"),
}

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

ROLES: dict[str, LazyString] = {Role.VIEWER: _l("viewer"), Role.OPERATOR: _l("operator")}

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


def quoted(labels: dict[str, LazyString], code: str | None) -> str:
    """The words for ``code`` set in a sentence."""
    return f"“{label(labels, code)}”"


# The codes a message of the domain may hold, each with the words it is said with.
_VALUE_WORDS: dict[str, dict[str, LazyString]] = {
    "amazon_status": AMAZON_STATUSES,
    "commerce_state": COMMERCE_STATES,
    "request_state": REQUEST_STATES,
    "processing_status": FEED_PROCESSING,
}


def locale() -> str:
    return str(get_locale() or DEFAULT_LOCALE)


def message(key: MessageKey, **values: str | None) -> str:
    """A message of the domain (the rule's refusal, what the pipeline recorded), in the user's language, its codes in
    words; a value the message does not name is ignored, one it names and was not given reads "?"."""
    words = {name: ("?" if value is None else value) for name, value in values.items()}
    for name, labels in _VALUE_WORDS.items():
        if values.get(name):
            words[name] = quoted(labels, values[name])
    return render(key, locale(), **{name: "?" for name in VALUE_NAMES} | words)


def recorded(text: str | None) -> str:
    """What the bridge recorded (a request's last problem), in the user's language when it is one of the domain's
    messages; anything else (a library's error, Amazon's words) as it was written."""
    if not text:
        return ""
    found = recognise(text)
    return message(found[0], **found[1]) if found else text


def amazon_answer(request: CancelRequest) -> str:
    """What Amazon answered, or why the cancel was not sent: the words of the audit comment the Commerce order got."""
    code, description = request.amazon_result_code, request.amazon_result_description
    about = {
        "amazon_order_id": request.amazon_order_id,
        "order_ref": f"#{request.increment_id or request.commerce_entity_id}",
    }
    if code == STATUS_CHANGED:
        return message(MessageKey.AUDIT_NOT_SENT, amazon_status=description, **about)
    if code == AMAZON_FULFILLED:
        return message(MessageKey.AMAZON_FULFILLED, **about)
    if code == REFUSED_BY_RULE and description in set(MessageKey):
        return message(MessageKey(description), **about)
    answer = f"{description or _('no reason given')} ({code})" if code else description or _("no reason given")
    return message(MessageKey.AUDIT_REJECTED, answer=answer, **about)


def why_no_cancel(why: str, *, amazon_order_id: str, order_ref: str | None, amazon_status: str | None,
                  commerce_state: str | None, request: CancelRequest | None) -> str:  # fmt: skip
    """Why the order page offers no *Cancel order*: the rule's refusal, in the words the admin reads in Commerce."""
    if why == Outcome.ALREADY_CANCELLED:
        return _("Amazon shows this order canceled already: there is nothing to cancel.")
    return message(
        MessageKey(why), amazon_order_id=amazon_order_id, order_ref=order_ref or amazon_order_id,
        amazon_status=amazon_status, commerce_state=commerce_state,
        request_state=request.state if request else None, request_id=str(request.id) if request else None,
    )  # fmt: skip


def _as_datetime(moment: datetime | float) -> datetime:
    if isinstance(moment, int | float):
        return datetime.fromtimestamp(moment, UTC)
    return as_utc(moment)


def when_text(moment: datetime | float | None, marketplace_id: str | None) -> str:
    """A time in the marketplace's own time, with seconds (a cancel's steps can be seconds apart) and the zone's
    abbreviation, whatever the user's language (``PST``, ``CEST``: Babel would write ``+0100`` in Italian)."""
    if moment is None:
        return "-"
    local, zone = local_time(_as_datetime(moment), marketplace_id)
    shown = format_datetime(local, "medium", tzinfo=local.tzinfo, locale=locale()).replace("\u202f", "\u00a0")
    return f"{shown}\u00a0{zone}"  # CLDR's narrow space before AM/PM is lost in many fonts


@pass_context
def when(context: Context, moment: datetime | float | None, marketplace_id: str | None = None) -> Markup | str:
    """``<time>`` with the marketplace's time (``marketplace_id``, else the page's ``marketplace_id``) and, in its
    title, UTC."""
    if moment is None:
        return "-"
    utc = _as_datetime(moment).astimezone(UTC)
    shown = when_text(utc, marketplace_id or context.get("marketplace_id"))
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        utc.strftime("%Y-%m-%dT%H:%M:%SZ"), utc.strftime("%Y-%m-%d %H:%M:%S UTC"), shown
    )
