"""Amazon's published default quotas (its usage-plan tables) for the SP-API operations the bridge calls.

Rates are requests per second, bursts the bucket's size. The client and the shared rate limiter stay under these;
``SPAPI_QUOTAS`` overrides them for an application Amazon granted more, and ``x-amzn-RateLimit-Limit`` answers
replace the rate at run time.
"""

from __future__ import annotations

PUBLISHED_QUOTAS: dict[str, tuple[float, int]] = {
    "getOrder": (0.5, 30),
    "searchOrders": (0.0056, 20),
    "createFeedDocument": (0.5, 15),
    "createFeed": (0.0083, 15),
    "getFeeds": (0.0222, 10),
    "getFeed": (2.0, 15),
    "getFeedDocument": (0.0222, 10),
    "getMarketplaceParticipations": (0.016, 15),
    "createDestination": (1.0, 5),
    "getDestinations": (1.0, 5),
    "createSubscription": (1.0, 5),
    "getSubscription": (1.0, 5),
}
