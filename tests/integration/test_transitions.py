"""The one guarded writer of states: a move the state machine does not list, or from a stale read, changes nothing.

On SQLite and PostgreSQL alike, since the guard is the UPDATE statement itself.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import update

from bridge.composition import Storage, build_storage
from bridge.domain.records import CancelRequest, NewCancelRequest
from bridge.domain.states import FeedState, RequestState, TransitionRefused
from bridge.storage.engine import upgrade
from bridge.storage.tables import cancel_requests
from tests.conftest import BOTH_DATABASES

pytestmark = BOTH_DATABASES
NOW = 1_800_000_000.0


@pytest.fixture
def storage(database_url: str) -> Iterator[Storage]:
    storage = build_storage(database_url)
    upgrade(storage.engine)
    yield storage
    storage.engine.dispose()


def record(storage: Storage, entity_id: int = 1) -> None:
    storage.cancel_requests.record(
        NewCancelRequest(
            commerce_entity_id=entity_id, increment_id=f"{entity_id:09d}", store_code="us", seller_id="A2SELLERUS",
            marketplace_id="ATVPDKIKX0DER", amazon_order_id=f"111-{entity_id:07d}-0000001",
            amazon_item_ids=("12345678901234",), reason="NoInventory", decision="accept", commerce_request_id=None,
        ),
        confirm_after=0.0,
    )  # fmt: skip


def claim(storage: Storage, state: RequestState, owner: str = "worker-a") -> CancelRequest:
    [request] = storage.cancel_requests.claim(owner, {state}, NOW, 60, 10)
    return request


def ready(storage: Storage) -> None:
    """A recorded request that Commerce confirmed and Amazon still shows sendable."""
    storage.cancel_requests.move(claim(storage, RequestState.AWAITING_COMMERCE), "worker-a", RequestState.PENDING)
    storage.cancel_requests.move(claim(storage, RequestState.PENDING), "worker-a", RequestState.READY)


def test_an_allowed_move_moves_and_releases_the_lease(storage: Storage) -> None:
    record(storage)
    storage.cancel_requests.move(claim(storage, RequestState.AWAITING_COMMERCE), "worker-a", RequestState.PENDING)
    [request] = storage.request_queries.all()
    assert (request.state, request.lease_owner) == ("pending", None)


def test_a_move_the_table_does_not_allow_is_refused_and_changes_nothing(storage: Storage) -> None:
    record(storage)
    request = claim(storage, RequestState.AWAITING_COMMERCE)
    with pytest.raises(TransitionRefused, match="to ready refused: #1 is awaiting_commerce"):
        storage.cancel_requests.move(request, "worker-a", RequestState.READY, last_error="should not be written")
    [unchanged] = storage.request_queries.all()
    assert (unchanged.state, unchanged.lease_owner, unchanged.last_error) == ("awaiting_commerce", "worker-a", None)


def test_a_move_from_a_stale_read_is_refused(storage: Storage) -> None:
    """A worker that read a request as pending must not move it once another has moved it on."""
    record(storage)
    storage.cancel_requests.move(claim(storage, RequestState.AWAITING_COMMERCE), "worker-a", RequestState.PENDING)
    stale = claim(storage, RequestState.PENDING)
    storage.cancel_requests.move(stale, "worker-a", RequestState.READY)
    with storage.engine.begin() as connection:  # the same lease again, as if the first move had not happened
        connection.execute(update(cancel_requests).values(lease_owner="worker-a"))
    with pytest.raises(TransitionRefused, match="is ready"):
        storage.cancel_requests.move(stale, "worker-a", RequestState.REJECTING)
    assert [r.state for r in storage.request_queries.all()] == ["ready"]


def test_a_move_after_the_lease_was_lost_is_refused(storage: Storage) -> None:
    record(storage)
    mine = claim(storage, RequestState.AWAITING_COMMERCE, owner="worker-a")
    storage.cancel_requests.release(mine, "worker-a", retry_at=0.0, error="")
    claim(storage, RequestState.AWAITING_COMMERCE, owner="worker-b")  # taken over
    with pytest.raises(TransitionRefused, match="lease worker-b"):
        storage.cancel_requests.move(mine, "worker-a", RequestState.PENDING)
    assert [r.state for r in storage.request_queries.all()] == ["awaiting_commerce"]


def test_an_operator_retry_starts_a_finished_request_over_at_commerce_s_confirmation(storage: Storage) -> None:
    record(storage)
    assert storage.cancel_requests.retry(1) is None  # under way: nothing to retry
    storage.cancel_requests.move(claim(storage, RequestState.AWAITING_COMMERCE), "worker-a", RequestState.PENDING)
    storage.cancel_requests.move(claim(storage, RequestState.PENDING), "worker-a", RequestState.FAILED, attempts=5)
    retried = storage.cancel_requests.retry(1)
    assert retried is not None and (retried.state, retried.attempts) == ("awaiting_commerce", 0)


def test_a_request_is_recorded_once_and_started_over_only_from_what_was_read(storage: Storage) -> None:
    """A new cancel decided on a read of the request that another call has since started over changes nothing;
    every move that happens leaves its event, written with it."""
    record(storage)
    record(storage)  # the same cancel recorded a moment later (a concurrent call): nothing more
    storage.cancel_requests.move(
        claim(storage, RequestState.AWAITING_COMMERCE), "worker-a", RequestState.NOT_CANCELED_IN_COMMERCE
    )
    [ended] = storage.request_queries.all()
    storage.cancel_requests.start_over(ended, ended, confirm_after=0.0)  # a new cancel: waiting for Commerce again
    with pytest.raises(TransitionRefused, match="#1 is awaiting_commerce"):
        storage.cancel_requests.start_over(ended, ended, confirm_after=0.0)  # decided on the stale read
    [request] = storage.request_queries.all()
    assert [event.state for event in storage.request_queries.timeline(request.id)] == [
        "awaiting_commerce", "not_canceled_in_commerce", "awaiting_commerce",
    ]  # fmt: skip


def test_commerce_s_after_hook_claim_moves_nothing_and_its_refusal_ends_only_a_waiting_request(
    storage: Storage,
) -> None:
    record(storage)
    assert storage.cancel_requests.read_back_now(1)  # a claim: read back at once, still waiting for what it shows
    [waiting] = storage.request_queries.all()
    assert (waiting.state, waiting.next_attempt_at) == ("awaiting_commerce", 0.0)
    held = claim(storage, RequestState.AWAITING_COMMERCE)  # the worker is reading Commerce at the same moment
    assert storage.cancel_requests.not_canceled_in_commerce(1, refusal="no")
    assert not storage.cancel_requests.not_canceled_in_commerce(1, refusal="no")  # ended already
    assert not storage.cancel_requests.read_back_now(1)  # nothing waits any more
    with pytest.raises(TransitionRefused):
        storage.cancel_requests.move(held, "worker-a", RequestState.PENDING)
    assert [(r.state, r.lease_owner) for r in storage.request_queries.all()] == [("not_canceled_in_commerce", None)]


def test_a_feed_cannot_skip_its_upload(storage: Storage) -> None:
    record(storage)
    ready(storage)
    opened = storage.feeds.open_batch("worker-a", ("us", "A2SELLERUS", "ATVPDKIKX0DER"), NOW, 60, 10)
    assert opened is not None
    feed, [request] = opened
    assert (feed.state, request.state, request.message_id) == ("preparing", "in_feed", 1)
    assert not storage.feeds.mark_submitted(feed, "worker-a", "50001", NOW)  # PREPARING -> SUBMITTED: not allowed
    assert storage.feeds.get(feed.id).state == FeedState.PREPARING
    assert [r.state for r in storage.request_queries.all()] == ["in_feed"]
    assert storage.feeds.mark_uploaded(feed, "worker-a", "doc-1", NOW)
    assert storage.feeds.mark_submitted(feed, "worker-a", "50001", NOW)
    assert [(r.state, r.attempts) for r in storage.request_queries.all()] == [("submitted", 1)]
