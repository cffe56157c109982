"""Stand-in of Login with Amazon and the Selling Partner API (Orders v2026-01-01, Feeds 2021-06-30)."""

from standins.amazon.orders import StandInOrder
from standins.amazon.standin import AmazonStandIn

__all__ = ["AmazonStandIn", "StandInOrder"]
