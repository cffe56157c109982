"""What every pipeline step works with: the bridge's collaborators, the worker's identity, its pace and a clock."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, fields

from bridge.composition import Bridge
from bridge.domain.records import CancelRequest, RequestOutcome
from bridge.domain.retry_policy import RetryPolicy
from bridge.domain.states import RequestState
from bridge.domain.stores import Store, StoreDirectory
from bridge.settings import PipelineSettings

STEP_SECONDS = 20.0  # one outbound call's budget inside a step, quota wait included
TRANSIENT_BACKOFF_CAP = 3600.0  # however often a fault repeats, look again at least hourly


@dataclass
class WorkerContext(Bridge):
    """The bridge's collaborators (same names as everywhere) plus what belongs to one worker."""

    owner: str = ""  # this worker's id, stamped on the leases it holds
    stop: threading.Event = field(default_factory=threading.Event)
    clock: Callable[[], float] = time.time

    @classmethod
    def of(cls, bridge: Bridge, owner: str) -> WorkerContext:
        return cls(**{f.name: getattr(bridge, f.name) for f in fields(Bridge)}, owner=owner)

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
    def feed_polls(self) -> RetryPolicy:
        """getFeed until Amazon has processed the feed (it may take hours, so there is no limit)."""
        return RetryPolicy(self.pipeline.feed_poll_initial_seconds, self.pipeline.feed_poll_max_seconds)

    @property
    def confirmations(self) -> RetryPolicy:
        """Status reads after a clean report before giving up on the order reading CANCELLED."""
        return RetryPolicy(
            self.pipeline.feed_poll_initial_seconds, self.pipeline.feed_poll_max_seconds, self.pipeline.confirm_checks
        )

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
