"""What every pipeline step works with: the records and clients it uses, the worker's identity, pace and clock."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from bridge.clients.commerce import CommerceClient
from bridge.clients.feeds_api import FeedsApi
from bridge.clients.orders_api import OrdersApi
from bridge.clients.spapi_operations import GET_FEED
from bridge.domain.pacing import poll_interval
from bridge.domain.records import CancelRequest, RequestOutcome
from bridge.domain.retry_policy import RetryPolicy
from bridge.domain.states import RequestState
from bridge.domain.stores import Store, StoreDirectory
from bridge.pipeline.notification_inbox import NotificationInbox
from bridge.services.amazon_status import AmazonStatus
from bridge.settings import PipelineSettings, Settings
from bridge.storage.buyer_cancel_notes import BuyerCancelNotes
from bridge.storage.cancel_requests import CancelRequests
from bridge.storage.feed_records import FeedRecords
from bridge.storage.order_links import OrderLinks
from bridge.storage.order_mirror import OrderMirror
from bridge.storage.order_pairs import OrderPairs
from bridge.storage.rate_limiter import RateLimiter
from bridge.storage.request_queries import RequestQueries

STEP_SECONDS = 20.0  # one outbound call's budget inside a step, quota wait included
TRANSIENT_BACKOFF_CAP = 3600.0  # however often a fault repeats, look again at least hourly


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class WorkerContext:
    """The collaborators the steps use (built by the composition root), plus what belongs to one worker."""

    settings: Settings
    cancel_requests: CancelRequests
    request_queries: RequestQueries
    feeds: FeedRecords
    links: OrderLinks
    mirror: OrderMirror
    pairs: OrderPairs
    buyer_notes: BuyerCancelNotes
    commerce: CommerceClient
    limiter: RateLimiter
    orders_api: OrdersApi
    feeds_api: FeedsApi
    amazon_status: AmazonStatus
    owner: str  # this worker's id, stamped on the leases it holds
    stop: threading.Event = field(default_factory=threading.Event)
    # True while Amazon's notifications reach this worker (the SQS queue answered its last receive): feeds and
    # orders are then followed from the queue, and polling drops to a slow backstop.
    notifications_live: bool = False
    # The SQS queue of Amazon's notifications (BRIDGE_SQS_QUEUE_URL) and what was received from it; None: polling only.
    notifications: NotificationInbox | None = None
    clock: Callable[[], float] = time.time

    @property
    def pipeline(self) -> PipelineSettings:
        return self.settings.pipeline

    @property
    def stores(self) -> StoreDirectory:
        return self.settings.stores

    # The pipeline's retries, each one RetryPolicy:
    @property
    def transient_faults(self) -> RetryPolicy:
        """Amazon or Commerce down, or refusing for now: tried again without end, at growing intervals."""
        return RetryPolicy(self.pipeline.retry_backoff_seconds, TRANSIENT_BACKOFF_CAP)

    @property
    def feed_attempts(self) -> RetryPolicy:
        """Feeds a request may go out in (FATAL or CANCELLED at Amazon, or never created) before it fails."""
        return RetryPolicy(self.pipeline.retry_backoff_seconds, TRANSIENT_BACKOFF_CAP, self.pipeline.max_feed_attempts)

    @property
    def confirmations(self) -> RetryPolicy:
        """Status reads after a clean report before giving up on the order reading CANCELLED: the first at the
        feed-poll cadence (Amazon usually shows it at once), then less and less often."""
        return RetryPolicy(
            self.pipeline.feed_poll_seconds, self.pipeline.feed_poll_backstop_seconds, self.pipeline.confirm_checks
        )

    def next_feed_poll(self, seller_id: str, asked_at: float) -> float:
        """When to ask Amazon again about a feed of this seller it is processing, last asked (or sent) at
        ``asked_at`` (epoch seconds): the cadence, or the backstop while notifications are live, stretched to a fair
        share of the seller's getFeed quota. Counted from the asking, so a call's own time does not slow the pace."""
        interval = poll_interval(
            cadence=self.pipeline.feed_poll_seconds,
            backstop=self.pipeline.feed_poll_backstop_seconds,
            notifications_live=self.notifications_live,
            feeds_in_progress=self.feeds.in_progress(seller_id),
            rate=self.limiter.rate(seller_id, GET_FEED.name),
        )
        return asked_at + interval

    def retry_at(self, policy: RetryPolicy, tries: int) -> float:
        """When to try again after ``tries`` tries under ``policy`` (epoch seconds)."""
        return self.clock() + policy.delay(tries)

    def after_failed_feed(self, tries: int, error: str) -> RequestOutcome:
        """A feed did not cancel the request (``tries`` feeds so far): back to be re-checked, or failed for good."""
        error = error[:2000]
        if self.feed_attempts.exhausted(tries):
            return RequestOutcome(
                RequestState.FAILED, {"attempts": tries, "feed_id": None, "message_id": None, "last_error": error}
            )
        return RequestOutcome(
            RequestState.PENDING,
            {"attempts": tries, "feed_id": None, "message_id": None, "last_error": error,
             "next_attempt_at": self.retry_at(self.feed_attempts, tries)},
        )  # fmt: skip

    def claim_by_store(
        self, state: RequestState, limit: int
    ) -> tuple[list[tuple[Store, list[CancelRequest]]], list[CancelRequest]]:
        """Lease due requests in ``state``, grouped by their configured store; and those of unknown stores."""
        grouped: dict[str, list[CancelRequest]] = defaultdict(list)
        for request in self.cancel_requests.claim(
            self.owner, {state}, self.clock(), self.pipeline.lease_seconds, limit
        ):
            grouped[request.store_code].append(request)
        known, orphans = [], []
        for code, requests in grouped.items():
            store = self.stores.by_code(code)
            if store is None:
                orphans.extend(requests)
            else:
                known.append((store, requests))
        return known, orphans
