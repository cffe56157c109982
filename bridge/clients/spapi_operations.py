"""The SP-API operations the bridge uses, with Amazon's published default quotas (its usage-plan tables).

The client and the shared rate limiter stay under these; ``SPAPI_QUOTAS`` overrides them for an application
Amazon granted more, and ``x-amzn-RateLimit-Limit`` answers replace the rate at run time.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    path: str  # with {placeholders}
    rate: float  # requests per second
    burst: int


GET_ORDER = Operation("getOrder", "GET", "/orders/2026-01-01/orders/{orderId}", 0.5, 30)
SEARCH_ORDERS = Operation("searchOrders", "GET", "/orders/2026-01-01/orders", 0.0056, 20)
CREATE_FEED_DOCUMENT = Operation("createFeedDocument", "POST", "/feeds/2021-06-30/documents", 0.5, 15)
CREATE_FEED = Operation("createFeed", "POST", "/feeds/2021-06-30/feeds", 0.0083, 15)
GET_FEEDS = Operation("getFeeds", "GET", "/feeds/2021-06-30/feeds", 0.0222, 10)
GET_FEED = Operation("getFeed", "GET", "/feeds/2021-06-30/feeds/{feedId}", 2.0, 15)
GET_FEED_DOCUMENT = Operation("getFeedDocument", "GET", "/feeds/2021-06-30/documents/{feedDocumentId}", 0.0222, 10)
GET_MARKETPLACE_PARTICIPATIONS = Operation(
    "getMarketplaceParticipations", "GET", "/sellers/v1/marketplaceParticipations", 0.016, 15
)

_ALL = (GET_ORDER, SEARCH_ORDERS, CREATE_FEED_DOCUMENT, CREATE_FEED, GET_FEEDS, GET_FEED, GET_FEED_DOCUMENT)
OPERATIONS = {op.name: op for op in (*_ALL, GET_MARKETPLACE_PARTICIPATIONS)}
QUOTAS = {op.name: (op.rate, op.burst) for op in OPERATIONS.values()}

REGION_HOSTS = {
    "na": "https://sellingpartnerapi-na.amazon.com",
    "eu": "https://sellingpartnerapi-eu.amazon.com",
    "fe": "https://sellingpartnerapi-fe.amazon.com",
}
