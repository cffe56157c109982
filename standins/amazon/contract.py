"""What Amazon publishes about the SP-API operations the stand-in serves: names, quotas and error envelopes.

The stand-in's own reading of Amazon's documentation (the usage-plan tables of the Orders v2026-01-01, Feeds
2021-06-30 and Sellers models, and the ``ErrorList`` model). The bridge keeps a table of its own: a wrong number on
either side shows up in the tests as a 429, never as two copies agreeing by construction.
"""

from __future__ import annotations

from typing import Protocol

from flask import Response, current_app, jsonify

from standins.faults import Fault

GET_ORDER = "getOrder"
SEARCH_ORDERS = "searchOrders"
CREATE_FEED_DOCUMENT = "createFeedDocument"
CREATE_FEED = "createFeed"
GET_FEEDS = "getFeeds"
GET_FEED = "getFeed"
GET_FEED_DOCUMENT = "getFeedDocument"
CANCEL_FEED = "cancelFeed"
GET_MARKETPLACE_PARTICIPATIONS = "getMarketplaceParticipations"
CREATE_DESTINATION = "createDestination"
GET_DESTINATIONS = "getDestinations"
CREATE_SUBSCRIPTION = "createSubscription"
GET_SUBSCRIPTION = "getSubscription"

# Rate (requests per second) and burst, per selling partner and application, as Amazon's usage plans give them.
PUBLISHED_QUOTAS: dict[str, tuple[float, int]] = {
    GET_ORDER: (0.5, 30),
    SEARCH_ORDERS: (0.0056, 20),
    CREATE_FEED_DOCUMENT: (0.5, 15),
    CREATE_FEED: (0.0083, 15),
    GET_FEEDS: (0.0222, 10),
    GET_FEED: (2.0, 15),
    GET_FEED_DOCUMENT: (0.0222, 10),
    CANCEL_FEED: (2.0, 15),
    GET_MARKETPLACE_PARTICIPATIONS: (0.016, 15),
    # Notifications API: every operation 1 request/s, burst 5 (destinations are the application's, not a seller's).
    CREATE_DESTINATION: (1.0, 5),
    GET_DESTINATIONS: (1.0, 5),
    CREATE_SUBSCRIPTION: (1.0, 5),
    GET_SUBSCRIPTION: (1.0, 5),
}

# Marketplaces the stand-in knows (Amazon's published marketplace ids): id -> (name, country, currency, language).
MARKETPLACES = {
    "ATVPDKIKX0DER": ("Amazon.com", "US", "USD", "en_US"),
    "APJ6JRA9NG5V4": ("Amazon.it", "IT", "EUR", "it_IT"),
    "A1PA6795UKMFR9": ("Amazon.de", "DE", "EUR", "de_DE"),
    "A1RKKUPIHCS9HS": ("Amazon.es", "ES", "EUR", "es_ES"),
    "A13V1IB3VIYZZH": ("Amazon.fr", "FR", "EUR", "fr_FR"),
    "A1F83G8C2ARO7P": ("Amazon.co.uk", "GB", "GBP", "en_GB"),
}

# OrderAcknowledgement.xsd's CancelReason enumeration: the only reasons Amazon accepts.
CANCEL_REASONS = frozenset(
    {
        "NoInventory",
        "ShippingAddressUndeliverable",
        "CustomerExchange",
        "BuyerCanceled",
        "GeneralAdjustment",
        "CarrierCreditDecision",
        "RiskAssessmentInformationNotValid",
        "CarrierCoverageFailure",
        "CustomerReturn",
        "MerchandiseNotReceived",
    }
)

QUOTA_EXCEEDED_MESSAGE = "You exceeded your quota for the requested resource."
INTERNAL_FAILURE_MESSAGE = "We encountered an internal error. Please try again."
ACCESS_DENIED_MESSAGE = "Access to requested resource is denied."

GATE_EXTENSION = "spapi_gate"  # where the app keeps its Gate (the stand-in itself)


def error_envelope(status: int, code: str, message: str, details: str | None = None) -> Response:
    """Amazon's ``{"errors": [{"code", "message", "details"?}]}``."""
    error: dict[str, str] = {"code": code, "message": message}
    if details:
        error["details"] = details
    response = jsonify({"errors": [error]})
    response.status_code = status
    return response


class Gate(Protocol):
    """What every SP-API operation goes through first, in Amazon's order: auth, injected faults, quota."""

    def guard(self, operation: str) -> tuple[str | None, Response | None]:
        """The calling seller, or the refusal to answer with."""
        ...

    def take_fault(self, operation: str) -> Fault | None:
        """Count a call of ``operation`` and take the next fault ordered for it."""
        ...

    def with_rate_header(self, response: Response, operation: str) -> Response:
        """Add ``x-amzn-RateLimit-Limit``, as Amazon does on answers other than 429."""
        ...

    def take_quota(self, caller: str, operation: str) -> bool:
        """A token from the caller's (a seller's, or the application's) bucket; False and counted when over."""
        ...


def gate() -> Gate:
    return current_app.extensions[GATE_EXTENSION]
