"""Where a cancel request and a feed stand, and the only moves between states the bridge allows.

The tables below are the state machines: ``bridge.storage.transitions`` refuses, in the very UPDATE that moves a
row, any move they do not list. A request is recorded ``awaiting_commerce`` by the ``before`` hook (Commerce has
not canceled yet), ``pending`` when the bridge started the cancel itself (console, API, a buyer's request), or
``cancelled_at_amazon`` for a cancel made at Amazon outside the bridge; it ends ``completed``, ``rejected``,
``failed`` or ``not_canceled_in_commerce``. A feed is recorded ``preparing`` and ends ``done`` or ``abandoned``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from bridge.errors import BridgeError


class RequestState(StrEnum):
    AWAITING_COMMERCE = "awaiting_commerce"  # the before hook accepted; Commerce has not confirmed its own cancel
    PENDING = "pending"  # Commerce canceled; Amazon is read again before anything is sent
    READY = "ready"  # still Unshipped and seller-fulfilled: waiting for the next feed of its seller and marketplace
    IN_FEED = "in_feed"  # in a feed being uploaded
    SUBMITTED = "submitted"  # Amazon has the feed; waiting for its processing report
    CONFIRMING = "confirming"  # the report showed no error; waiting for the order to read CANCELLED
    CANCELLED_AT_AMAZON = "cancelled_at_amazon"  # confirmed, or canceled at Amazon already: write-back due
    COMPLETED = "completed"  # Commerce order set Complete, with an audit comment
    REJECTING = "rejecting"  # not sent or refused by Amazon: an audit comment is due
    REJECTED = "rejected"  # the audit comment says what Amazon answered
    FAILED = "failed"  # retries ran out, or the store left the stores file: an operator decides
    NOT_CANCELED_IN_COMMERCE = (
        "not_canceled_in_commerce"  # Commerce refused or never applied the cancel: no Amazon call
    )


class FeedState(StrEnum):
    PREPARING = "preparing"  # requests assigned; document not uploaded yet
    UPLOADED = "uploaded"  # document uploaded; createFeed not known to have succeeded
    SUBMITTED = "submitted"  # Amazon accepted the feed; polling getFeed
    DONE = "done"  # report read and applied
    ABANDONED = "abandoned"  # FATAL/CANCELLED at Amazon, or never created: its requests went back


class FeedProcessingStatus(StrEnum):
    """Amazon's ``processingStatus`` of a feed, as a feed record keeps it; NOT_FOUND is the bridge's own, for a feed
    Amazon no longer knows."""

    IN_QUEUE = "IN_QUEUE"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"
    CANCELLED = "CANCELLED"
    FATAL = "FATAL"
    NOT_FOUND = "NOT_FOUND"


@dataclass(frozen=True)
class StateMachine:
    """Allowed moves as data: ``moves[source]`` is every state a row may go to from ``source``.

    A row is recorded in ``initial``, or in one of the other ``entries`` where it starts elsewhere. In a ``final``
    state the work is over: nothing moves the row on its own, only a new start (a new cancel, an operator's retry).
    """

    name: str
    initial: StrEnum
    moves: Mapping[StrEnum, frozenset[StrEnum]]
    final: frozenset[StrEnum]
    other_entries: frozenset[StrEnum] = frozenset()

    @property
    def entries(self) -> frozenset[StrEnum]:
        return self.other_entries | {self.initial}

    @property
    def states(self) -> frozenset[StrEnum]:
        return frozenset(self.moves)

    def sources_of(self, target: StrEnum) -> frozenset[StrEnum]:
        """Every state a row may come from to reach ``target``."""
        return frozenset(source for source, targets in self.moves.items() if target in targets)

    def allows(self, source: StrEnum, target: StrEnum) -> bool:
        return target in self.moves.get(source, frozenset())


class TransitionRefused(BridgeError):
    """A row was not where the move needed it: another worker moved it, its lease was lost, or the move is not
    allowed by the state machine. Nothing was changed."""

    def __init__(self, machine: StateMachine, target: StrEnum, found: dict[int, tuple[str, str | None]]) -> None:
        self.found = found
        described = ", ".join(
            f"#{row_id} is {state} (lease {owner or 'free'})" for row_id, (state, owner) in found.items()
        )
        super().__init__(f"{machine.name} move to {target} refused: {described or 'no such row'}")


def _machine(
    name: str,
    initial: StrEnum,
    moves: Mapping[StrEnum, Iterable[StrEnum]],
    final: Iterable[StrEnum],
    other_entries: Iterable[StrEnum] = (),
) -> StateMachine:
    moves = {source: frozenset(targets) for source, targets in moves.items()}
    return StateMachine(name, initial, moves, frozenset(final), frozenset(other_entries))


R = RequestState
REQUEST_STATES = _machine(
    "cancel request",
    R.AWAITING_COMMERCE,
    {
        # Commerce canceled (its after hook, or the order read back); or it did not, within the window
        R.AWAITING_COMMERCE: {R.PENDING, R.NOT_CANCELED_IN_COMMERCE},
        # re-checked at Amazon: sendable, canceled already, changed (or unknown), or its store left the stores file
        R.PENDING: {R.READY, R.CANCELLED_AT_AMAZON, R.REJECTING, R.FAILED},
        R.READY: {R.IN_FEED},  # taken into a feed
        # the feed reached Amazon; or it did not (back to be re-checked, or failed for good); or a duplicate order
        R.IN_FEED: {R.SUBMITTED, R.PENDING, R.FAILED},
        # the report: accepted or refused; a FATAL/CANCELLED feed: back to be re-checked, or failed for good
        R.SUBMITTED: {R.CONFIRMING, R.REJECTING, R.PENDING, R.FAILED},
        # reads CANCELLED; not yet (looked at again later); never did
        R.CONFIRMING: {R.CANCELLED_AT_AMAZON, R.CONFIRMING, R.FAILED},
        R.CANCELLED_AT_AMAZON: {R.COMPLETED},  # written back
        # audit comment written. A request that did not end in a cancel starts over where its source starts (see
        # ``restart_state``) when the order is canceled again or an operator retries it: at awaiting_commerce for a
        # Commerce cancel (Commerce's cancel is checked again), at pending for one the bridge started.
        R.REJECTING: {R.REJECTED, R.AWAITING_COMMERCE, R.PENDING},
        R.COMPLETED: set(),
        R.REJECTED: {R.AWAITING_COMMERCE, R.PENDING},
        R.FAILED: {R.AWAITING_COMMERCE, R.PENDING},
        # ... and an order canceled at Amazon outside the bridge while still open in Commerce is written back
        R.NOT_CANCELED_IN_COMMERCE: {R.AWAITING_COMMERCE, R.PENDING, R.CANCELLED_AT_AMAZON},
    },
    # Nothing moves these but a new cancel (in Commerce, the console or the API), an operator's retry, or (for
    # not_canceled_in_commerce) a cancel made at Amazon that must be written back.
    final={R.COMPLETED, R.REJECTED, R.FAILED, R.NOT_CANCELED_IN_COMMERCE},
    # A Commerce cancel starts at awaiting_commerce. A cancel the bridge starts itself (an operator in the console, a
    # tool through the API, a buyer's request the merchant lets it act on) starts at pending; a cancel made at Amazon
    # outside the bridge, at cancelled_at_amazon.
    other_entries={R.PENDING, R.CANCELLED_AT_AMAZON},
)
FINAL_REQUEST_STATES = REQUEST_STATES.final
# A request in one of these sends, has sent or has confirmed the cancel of its Amazon order: no other request may
# send one for the same Amazon order (two Commerce orders linked to one Amazon order).
SENDS_THE_AMAZON_CANCEL = frozenset({R.READY, R.IN_FEED, R.SUBMITTED, R.CONFIRMING, R.CANCELLED_AT_AMAZON, R.COMPLETED})
# What a new cancel of the order decides again (through the cancel rule, from the start).
RESTARTABLE_REQUEST_STATES = REQUEST_STATES.sources_of(R.AWAITING_COMMERCE)
# What an operator's Retry (console, ``bridge jobs retry``) starts over: a request that failed on faults, or whose
# Commerce cancel was not seen. Not a rejected one: Amazon refused, or showed the order shipped or canceled, and
# trying the same again changes nothing; the operator handles it in Seller Central (or cancels anew).
RETRYABLE_REQUEST_STATES = frozenset({R.FAILED, R.NOT_CANCELED_IN_COMMERCE})


class Source(StrEnum):
    """Where a cancel started."""

    COMMERCE = "commerce"  # an admin (or automation) canceled in Commerce
    AMAZON = "amazon"  # canceled at Amazon outside the bridge: the seller in Seller Central, the buyer, Amazon
    BUYER_REQUEST = "buyer_request"  # the bridge canceled at Amazon on the buyer's request (the merchant's choice)
    CONSOLE = "console"  # an operator in the bridge's console
    API = "api"  # a tool through the bridge's API


STARTED_AT_BRIDGE = frozenset({Source.BUYER_REQUEST, Source.CONSOLE, Source.API})


def restart_state(source: str) -> RequestState:
    """Where a request that ended without a cancel starts over: a cancel the bridge started never waits for
    Commerce (Commerce has nothing to confirm); every other cancel has Commerce's cancel checked again."""
    return R.PENDING if source in STARTED_AT_BRIDGE else R.AWAITING_COMMERCE


def can_retry(state: str) -> bool:
    """Whether an operator's Retry may start a request in ``state`` over."""
    return state in RETRYABLE_REQUEST_STATES


def can_restart(state: str) -> bool:
    """Whether a request in ``state`` may start over (it ended, or is ending, without a cancel): from each of these
    states the machine allows both starts, a Commerce cancel's and one the bridge started."""
    return state in RESTARTABLE_REQUEST_STATES


F = FeedState
FEED_STATES = _machine(
    "feed",
    F.PREPARING,
    {
        F.PREPARING: {F.UPLOADED, F.ABANDONED},  # uploaded; or nothing reached Amazon
        F.UPLOADED: {F.SUBMITTED, F.ABANDONED},  # createFeed accepted (or found after a crash); or refused
        F.SUBMITTED: {F.DONE, F.ABANDONED},  # report applied; or FATAL/CANCELLED at Amazon
        F.DONE: set(),
        F.ABANDONED: set(),
    },
    final={F.DONE, F.ABANDONED},
)


class CancelStanding(StrEnum):
    """Where an order's cancel stands, in the few words a seller filters a list of orders by: each request state
    belongs to exactly one, and an order without a request to ``NONE``."""

    NONE = "none"  # the bridge has no cancel of this order
    UNDER_WAY = "under_way"  # not in a final state yet: the bridge is working on it
    COMPLETED = "completed"  # canceled at Amazon and written back to Commerce
    NEEDS_ATTENTION = "needs_attention"  # ended without a cancel: the console's Needs attention lists it


# The request states of each standing (an order's newest request counts); NONE is the order with no request at all.
STANDING_STATES: Mapping[CancelStanding, frozenset[StrEnum]] = {
    CancelStanding.NONE: frozenset(),
    CancelStanding.UNDER_WAY: REQUEST_STATES.states - REQUEST_STATES.final,
    CancelStanding.COMPLETED: frozenset({R.COMPLETED}),
    CancelStanding.NEEDS_ATTENTION: REQUEST_STATES.final - {R.COMPLETED},
}
