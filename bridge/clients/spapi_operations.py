"""The SP-API operations the bridge calls, by the names their quotas are kept under (``domain/spapi_quotas.py``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    path: str  # with {placeholders}


GET_ORDER = Operation("getOrder", "GET", "/orders/2026-01-01/orders/{orderId}")
SEARCH_ORDERS = Operation("searchOrders", "GET", "/orders/2026-01-01/orders")
CREATE_FEED_DOCUMENT = Operation("createFeedDocument", "POST", "/feeds/2021-06-30/documents")
CREATE_FEED = Operation("createFeed", "POST", "/feeds/2021-06-30/feeds")
GET_FEEDS = Operation("getFeeds", "GET", "/feeds/2021-06-30/feeds")
GET_FEED = Operation("getFeed", "GET", "/feeds/2021-06-30/feeds/{feedId}")
GET_FEED_DOCUMENT = Operation("getFeedDocument", "GET", "/feeds/2021-06-30/documents/{feedDocumentId}")
GET_MARKETPLACE_PARTICIPATIONS = Operation(
    "getMarketplaceParticipations", "GET", "/sellers/v1/marketplaceParticipations"
)
# Notifications API v1: destinations are grantless (the application's), subscriptions are the seller's.
CREATE_DESTINATION = Operation("createDestination", "POST", "/notifications/v1/destinations")
GET_DESTINATIONS = Operation("getDestinations", "GET", "/notifications/v1/destinations")
CREATE_SUBSCRIPTION = Operation("createSubscription", "POST", "/notifications/v1/subscriptions/{notificationType}")
GET_SUBSCRIPTION = Operation("getSubscription", "GET", "/notifications/v1/subscriptions/{notificationType}")

REGION_HOSTS = {
    "na": "https://sellingpartnerapi-na.amazon.com",
    "eu": "https://sellingpartnerapi-eu.amazon.com",
    "fe": "https://sellingpartnerapi-fe.amazon.com",
}
