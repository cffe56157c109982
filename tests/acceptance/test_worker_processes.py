"""Acceptance: real ``bridge worker`` processes (the Procfile's ``worker`` line), killed and raced.

The stand-ins run in the test process; the workers reach them over HTTP and share the test's database.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bridge.domain.records import NewCancelRequest
from bridge.storage.cancel_requests import CancelRequests
from bridge.storage.engine import make_engine, upgrade
from bridge.storage.request_queries import RequestQueries
from standins.amazon import StandInOrder
from standins.procfile import ProcfileProcess
from tests.pipeline_helpers import FAST_PIPELINE, eventually

US_SELLER, US_MARKETPLACE = "A2SELLERUS", "ATVPDKIKX0DER"
COMMENTS = "POST /rest/V1/orders/<int:entity_id>/comments"


@pytest.fixture
def worker_env(bridge_env: dict[str, str]) -> dict[str, str]:
    env = {**bridge_env, **FAST_PIPELINE, "BRIDGE_WORKER_LEASE_SECONDS": "2"}
    upgrade(make_engine(env["DATABASE_URL"]))
    return env


@pytest.fixture
def start_worker(worker_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., ProcfileProcess]]:
    started: list[ProcfileProcess] = []

    def start(**overrides: str) -> ProcfileProcess:
        worker = ProcfileProcess("worker", {**worker_env, **overrides}, tmp_path / f"worker{len(started)}.log")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()


def record_cancels(database_url: str, commerce, amazon, entity_ids) -> dict[int, str]:
    """Orders canceled in Commerce whose cancel the before hook accepted (recorded directly: the hooks have tests of
    their own; no after hook came, so the worker reads the orders back)."""
    requests = CancelRequests(make_engine(database_url))
    ids = {}
    for entity_id in entity_ids:
        amazon_id = f"113-{entity_id:07d}-{entity_id * 3:07d}"
        commerce.add_order(
            entity_id, store_id=2, payment_method="amazonpayment", po_number=amazon_id, state="canceled",
            status="canceled",
        )  # fmt: skip
        order = amazon.add_order(StandInOrder(amazon_id, US_SELLER, US_MARKETPLACE))
        requests.record(
            NewCancelRequest(
                commerce_entity_id=entity_id, increment_id=f"{entity_id:09d}", store_code="us", seller_id=US_SELLER,
                marketplace_id=US_MARKETPLACE, amazon_order_id=amazon_id, amazon_item_ids=tuple(order.item_ids),
                reason="GeneralAdjustment", decision="accept", commerce_request_id=None,
            ),
            confirm_after=0.0,
        )  # fmt: skip
        ids[entity_id] = amazon_id
    return ids


def final_states(database_url: str) -> dict[int, str]:
    return {r.commerce_entity_id: r.state for r in RequestQueries(make_engine(database_url)).all()}


def test_worker_killed_after_create_feed_before_recording_it(worker_env, start_worker, commerce, amazon, tmp_path):
    ids = record_cancels(worker_env["DATABASE_URL"], commerce, amazon, range(1, 4))
    amazon.faults.add("createFeed", delay_after=60)  # Amazon creates the feed; the answer never arrives
    first = start_worker()
    assert amazon.wait_for_feeds(1, timeout=30), (tmp_path / "worker0.log").read_text()
    first.kill()
    start_worker()
    assert commerce.wait_for_calls(COMMENTS, 3, timeout=60), (tmp_path / "worker1.log").read_text()
    assert eventually(lambda: set(final_states(worker_env["DATABASE_URL"]).values()) == {"completed"}, 30)
    assert amazon.calls["createFeed"] == 1
    assert all(amazon.cancel_messages[a] == 1 for a in ids.values())
    assert all(commerce.orders[e]["state"] == "complete" for e in ids)


def test_worker_killed_before_the_write_back(worker_env, start_worker, commerce, amazon, tmp_path):
    ids = record_cancels(worker_env["DATABASE_URL"], commerce, amazon, [10])
    commerce.faults.add("POST /rest/V1/orders", delay=60)  # the worker hangs on its way to Commerce
    first = start_worker()
    assert commerce.wait_for_calls("POST /rest/V1/orders", 1, timeout=30), (tmp_path / "worker0.log").read_text()
    first.kill()
    commerce.faults.clear()
    start_worker()
    assert commerce.wait_for_calls(COMMENTS, 1, timeout=60), (tmp_path / "worker1.log").read_text()
    assert eventually(lambda: final_states(worker_env["DATABASE_URL"]) == {10: "completed"}, 30)
    assert amazon.cancel_messages[ids[10]] == 1
    assert (commerce.orders[10]["state"], commerce.orders[10]["status"]) == ("complete", "complete")
    assert len(commerce.orders[10]["status_histories"]) == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_workers_racing_over_200_requests_send_each_order_once(worker_env, start_worker, commerce, amazon):
    amazon.quotas["getOrder"] = (50.0, 300)  # an application granted a higher getOrder quota, on both sides
    ids = record_cancels(worker_env["DATABASE_URL"], commerce, amazon, range(1000, 1200))
    for _ in range(2):
        start_worker(SPAPI_QUOTAS="getOrder=50:300")
    assert commerce.wait_for_calls(COMMENTS, 200, timeout=120)
    assert eventually(lambda: set(final_states(worker_env["DATABASE_URL"]).values()) == {"completed"}, 30)
    assert sorted(amazon.cancel_messages[a] for a in ids.values()) == [1] * 200
    assert sum(amazon.throttled.values()) == 0
    assert amazon.calls["createFeed"] <= 15


def test_sigterm_stops_the_worker_promptly_and_cleanly(worker_env, start_worker, commerce, amazon):
    record_cancels(worker_env["DATABASE_URL"], commerce, amazon, [20])
    worker = start_worker(BRIDGE_WORKER_IDLE_SECONDS="5")
    assert commerce.wait_for_calls(COMMENTS, 1, timeout=30)
    started = time.monotonic()
    assert worker.stop(timeout=30) == 0
    assert time.monotonic() - started < 30
