"""Where a cancel request and a feed stand on their way to a final state (plain data, no I/O).

Request: PENDING (recorded by the webhook) -> READY (still Unshipped, waiting for a feed) -> IN_FEED (in a feed
being uploaded) -> SUBMITTED (Amazon has the feed) -> CONFIRMING (the report showed no error; waiting for the
order to read CANCELLED) -> CANCELLED_AT_AMAZON (write-back due) -> COMPLETED.
Refusals go to REJECTING (an audit comment is due) -> REJECTED. FAILED means retries ran out; an operator decides.
"""

from __future__ import annotations

from enum import StrEnum


class RequestState(StrEnum):
    PENDING = "pending"
    READY = "ready"
    IN_FEED = "in_feed"
    SUBMITTED = "submitted"
    CONFIRMING = "confirming"
    CANCELLED_AT_AMAZON = "cancelled_at_amazon"
    COMPLETED = "completed"
    REJECTING = "rejecting"
    REJECTED = "rejected"
    FAILED = "failed"


FINAL_REQUEST_STATES = frozenset({RequestState.COMPLETED, RequestState.REJECTED, RequestState.FAILED})
RETRYABLE_REQUEST_STATES = frozenset({RequestState.REJECTED, RequestState.FAILED})


class FeedState(StrEnum):
    PREPARING = "preparing"  # requests assigned; document not uploaded yet
    UPLOADED = "uploaded"  # document uploaded; createFeed not known to have succeeded
    SUBMITTED = "submitted"  # Amazon accepted the feed; polling getFeed
    DONE = "done"  # report read and applied
    ABANDONED = "abandoned"  # FATAL/CANCELLED at Amazon, or never created: its requests went back


ACTIVE_FEED_STATES = frozenset({FeedState.PREPARING, FeedState.UPLOADED, FeedState.SUBMITTED})
