"""The one guarded writer of states: a move the state machine does not list, or from a stale read, changes nothing.

On SQLite and PostgreSQL alike, since the guard is the UPDATE statement itself.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import update

from bridge.composition import Storage, build_storage
from bridge.domain.states import FeedState, RequestState
from bridge.storage.cancel_requests import CancelRequest, NewCancelRequest
from bridge.storage.engine import upgrade
from bridge.storage.tables import cancel_requests
from bridge.storage.transitions import TransitionRefused
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
    storage.requests.record(
        NewCancelRequest(
            commerce_entity_id=entity_id, increment_id=f"{entity_id:09d}", store_code="us", seller_id="A2SELLERUS",
            marketplace_id="ATVPDKIKX0DER", amazon_order_id=f"111-{entity_id:07d}-0000001",
            amazon_item_ids=("12345678901234",), reason="NoInventory", decision="accept", commerce_request_id=None,
        )
    )  # fmt: skip


def claim(storage: Storage, state: RequestState, owner: str = "worker-a") -> CancelRequest:
    [request] = storage.requests.claim(owner, {state}, NOW, 60, 10)
    return request


def test_an_allowed_move_moves_and_releases_the_lease(storage: Storage) -> None:
    record(storage)
    storage.requests.move(claim(storage, RequestState.PENDING), "worker-a", RequestState.READY)
    [request] = storage.requests.all()
    assert (request.state, request.lease_owner) == ("ready", None)


def test_a_move_the_table_does_not_allow_is_refused_and_changes_nothing(storage: Storage) -> None:
    record(storage)
    request = claim(storage, RequestState.PENDING)
    with pytest.raises(TransitionRefused, match="to completed refused: #1 is pending"):
        storage.requests.move(request, "worker-a", RequestState.COMPLETED, last_error="should not be written")
    [unchanged] = storage.requests.all()
    assert (unchanged.state, unchanged.lease_owner, unchanged.last_error) == ("pending", "worker-a", None)


def test_a_move_from_a_stale_read_is_refused(storage: Storage) -> None:
    """A worker that read a request as pending must not move it once another has moved it on."""
    record(storage)
    stale = claim(storage, RequestState.PENDING)
    storage.requests.move(stale, "worker-a", RequestState.READY)
    with storage.engine.begin() as connection:  # the same lease again, as if the first move had not happened
        connection.execute(update(cancel_requests).values(lease_owner="worker-a"))
    with pytest.raises(TransitionRefused, match="is ready"):
        storage.requests.move(stale, "worker-a", RequestState.REJECTING)
    assert [r.state for r in storage.requests.all()] == ["ready"]


def test_a_move_after_the_lease_was_lost_is_refused(storage: Storage) -> None:
    record(storage)
    mine = claim(storage, RequestState.PENDING, owner="worker-a")
    storage.requests.release(mine, "worker-a", retry_at=0.0, error="")
    claim(storage, RequestState.PENDING, owner="worker-b")  # taken over
    with pytest.raises(TransitionRefused, match="lease worker-b"):
        storage.requests.move(mine, "worker-a", RequestState.READY)
    assert [r.state for r in storage.requests.all()] == ["pending"]


def test_an_operator_retry_only_takes_failed_or_rejected_requests(storage: Storage) -> None:
    record(storage)
    assert storage.requests.retry(1) is None  # pending: nothing to retry
    storage.requests.move(claim(storage, RequestState.PENDING), "worker-a", RequestState.FAILED)
    retried = storage.requests.retry(1)
    assert retried is not None and retried.state == "pending"


def test_a_feed_cannot_skip_its_upload(storage: Storage) -> None:
    record(storage)
    storage.requests.move(claim(storage, RequestState.PENDING), "worker-a", RequestState.READY)
    opened = storage.feeds.open_batch("worker-a", ("us", "A2SELLERUS", "ATVPDKIKX0DER"), NOW, 60, 10)
    assert opened is not None
    feed, [request] = opened
    assert (feed.state, request.state, request.message_id) == ("preparing", "in_feed", 1)
    assert not storage.feeds.mark_submitted(feed, "worker-a", "50001", NOW)  # PREPARING -> SUBMITTED: not allowed
    assert storage.feeds.get(feed.id).state == FeedState.PREPARING
    assert [r.state for r in storage.requests.all()] == ["in_feed"]
    assert storage.feeds.mark_uploaded(feed, "worker-a", "doc-1", NOW)
    assert storage.feeds.mark_submitted(feed, "worker-a", "50001", NOW)
    assert [(r.state, r.attempts) for r in storage.requests.all()] == [("submitted", 1)]
