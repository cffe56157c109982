"""What every pipeline step needs: repositories, clients, settings, the worker's identity and a clock."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from bridge.cancel_requests import CancelRequest, CancelRequests
from bridge.clients.commerce import CommerceClient
from bridge.clients.spapi_feeds import FeedsApi
from bridge.clients.spapi_orders import OrdersApi
from bridge.config import PipelineSettings
from bridge.feeds import Feeds
from bridge.job_states import RequestState
from bridge.order_mirror import OrderMirror
from bridge.rate_limit import RateLimiter
from bridge.stores import Store, StoreDirectory

STEP_SECONDS = 20.0  # one outbound call's budget inside a step, quota wait included


@dataclass
class PipelineContext:
    owner: str  # this worker's id, stamped on the leases it holds
    requests: CancelRequests
    feeds: Feeds
    orders: OrdersApi
    feeds_api: FeedsApi
    commerce: CommerceClient
    limiter: RateLimiter
    mirror: OrderMirror
    stores: StoreDirectory
    settings: PipelineSettings
    stop: threading.Event = field(default_factory=threading.Event)
    clock: Callable[[], float] = time.time

    def claim_by_store(
        self, state: RequestState, limit: int
    ) -> tuple[list[tuple[Store, list[CancelRequest]]], list[CancelRequest]]:
        """Lease due requests in ``state``, grouped by their configured store; and those of unknown stores."""
        grouped: dict[str, list[CancelRequest]] = defaultdict(list)
        for request in self.requests.claim(self.owner, {state}, self.clock(), self.settings.lease_seconds, limit):
            grouped[request.store_code].append(request)
        known, orphans = [], []
        for code, requests in grouped.items():
            store = self.stores.by_code(code)
            if store is None:
                orphans.extend(requests)
            else:
                known.append((store, requests))
        return known, orphans

    def backoff(self, attempt: int) -> float:
        """When to try again after the ``attempt``-th transient failure (doubling, capped at an hour)."""
        return self.clock() + min(3600.0, self.settings.retry_backoff_seconds * 2 ** max(0, attempt - 1))
