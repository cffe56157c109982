"""Amazon's notifications through a real SQS endpoint (moto's server mode on loopback; boto3 on both sides): the
bridge subscribes itself, and what Amazon announces reaches Commerce without waiting for the order mirror's refresh.

The mirror's scheduled refresh is made slow (a day) wherever the point is that the queue, not polling, did it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import subprocess
import sys
import time
import uuid

import boto3
import pytest
import requests
from prometheus_client import REGISTRY

from bridge.cli.notifications import notifications_subscribe
from bridge.clients.sqs_queue import QueueMessage, QueueUnreachable, SqsQueue
from bridge.composition import build_clients
from bridge.pipeline.steps.refresh_amazon_mirror import refresh_amazon_mirror
from bridge.pipeline.steps.refresh_commerce_links import refresh_commerce_links
from bridge.pipeline.worker import idle, run_round
from bridge.pipeline.worker_context import WorkerContext
from standins.amazon import StandInOrder
from standins.amazon.notifications import FEED_PROCESSING_FINISHED, ORDER_CHANGE
from tests.conftest import BOTH_DATABASES
from tests.pipeline_helpers import FAST_PIPELINE, eventually
from tests.seeds import amazon_order

SLOW_MIRROR = {"BRIDGE_MIRROR_REFRESH_SECONDS": "86400"}
US_SELLER = "A2SELLERUS"


@pytest.fixture
def queue(sqs_env: dict[str, str]) -> str:
    """A fresh queue; a short visibility timeout, so that a message not deleted comes back within the test."""
    client = boto3.client("sqs", region_name="us-east-1", endpoint_url=sqs_env["AWS_ENDPOINT_URL_SQS"])
    return client.create_queue(QueueName=f"bridge-{uuid.uuid4().hex[:12]}", Attributes={"VisibilityTimeout": "2"})[
        "QueueUrl"
    ]


@pytest.fixture
def sqs(sqs_env: dict[str, str]):
    return boto3.client("sqs", region_name="us-east-1", endpoint_url=sqs_env["AWS_ENDPOINT_URL_SQS"])


def drive_idling(ctx: WorkerContext, until, timeout: float = 30.0) -> None:
    """The worker's own loop: rounds, and between idle rounds its wait (the queue's long poll), until ``until()``."""
    give_up = time.monotonic() + timeout
    while not until():
        if time.monotonic() > give_up:
            raise AssertionError(f"condition not reached within {timeout}s")
        if run_round(ctx) == 0:
            idle(ctx)


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def comments(commerce, entity_id: int) -> list[str]:
    return [history["comment"] for history in commerce.orders[entity_id]["status_histories"]]


def commerce_writes(commerce) -> dict[str, int]:
    return {call: count for call, count in commerce.calls.items() if not call.startswith("GET ")}


def subscribe(bridge) -> None:
    """``bridge notifications subscribe``, in this process (its command-line side has a test of its own)."""
    api = build_clients(bridge.settings, bridge.records.engine).notifications_api
    assert notifications_subscribe(bridge.settings, api, argparse.Namespace(store=None, json=True)) == 0


def started(start_bridge, amazon, queue: str, polling: bool = False, **env: str):
    """The bridge with its mirrors warm; unless ``polling``, searchOrders then fails for good, so that whatever
    reaches Commerce afterwards came through the queue."""
    bridge = start_bridge(**{**FAST_PIPELINE, **SLOW_MIRROR, "BRIDGE_SQS_QUEUE_URL": queue, **env})
    ctx = bridge.worker()
    refresh_commerce_links(ctx)
    assert refresh_amazon_mirror(ctx) == 2  # the backfill; the next scheduled refresh is a day away
    if not polling:
        amazon.faults.add("searchOrders", status=503, times=1_000_000)
    return bridge, ctx


def bridge_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridge.cli", *args], env={"PATH": os.environ["PATH"], **env},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_subscribe_makes_the_queue_a_destination_and_subscribes_each_store_and_again_changes_nothing(
    bridge_env, sqs_env, queue, amazon
):
    env = {**bridge_env, **sqs_env, "BRIDGE_SQS_QUEUE_URL": queue}
    assert bridge_cli(env, "db", "upgrade").returncode == 0
    first = bridge_cli(env, "notifications", "subscribe", "--json")
    assert first.returncode == 0, first.stderr
    rows = json.loads(first.stdout)["rows"]
    # Two regions (it: eu, us: na), one queue; the store with order import off is left alone.
    assert sorted((row["store"], row["what"]) for row in rows if row["store"] != "-") == [
        ("it", FEED_PROCESSING_FINISHED), ("it", ORDER_CHANGE), ("us", FEED_PROCESSING_FINISHED), ("us", ORDER_CHANGE)
    ]  # fmt: skip
    [destination] = amazon.notifications.destinations.values()
    assert destination.arn == json.loads(first.stdout)["queue_arn"] and destination.arn.endswith(queue.rsplit("/")[-1])
    subscribed = dict(amazon.notifications.subscriptions)
    assert sorted(subscribed) == sorted(
        (s, t) for s in ("A1SELLERIT", US_SELLER) for t in (ORDER_CHANGE, FEED_PROCESSING_FINISHED)
    )

    again = bridge_cli(env, "notifications", "subscribe")
    assert again.returncode == 0, again.stderr
    assert "created" not in again.stdout and again.stdout.count("exists") == 6  # 2 destinations' rows, 4 subscriptions
    assert amazon.notifications.subscriptions == subscribed and len(amazon.notifications.destinations) == 1

    status = bridge_cli(env, "notifications", "status", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["complete"] is True
    assert bridge_cli(env, "notifications", "status", "--store", "us").returncode == 0
    unknown = bridge_cli(env, "notifications", "status", "--store", "xx")
    assert unknown.returncode == 2 and unknown.stderr.startswith("bridge: --store: unknown store 'xx'")
    for secret in (bridge_env["LWA_CLIENT_SECRET"], "Atzr|refresh-us-secret"):
        assert secret not in first.stdout + first.stderr + status.stdout


def test_status_says_what_is_missing_and_subscribe_needs_the_queue(bridge_env, sqs_env, queue, amazon):
    env = {**bridge_env, **sqs_env, "BRIDGE_SQS_QUEUE_URL": queue}
    assert bridge_cli(env, "db", "upgrade").returncode == 0
    status = bridge_cli(env, "notifications", "status")
    assert status.returncode == 1 and "missing" in status.stdout
    without = bridge_cli({**bridge_env, **sqs_env}, "notifications", "subscribe")
    assert without.returncode == 2 and "BRIDGE_SQS_QUEUE_URL is not set" in without.stderr
    bad = bridge_cli({**env, "BRIDGE_SQS_QUEUE_URL": "sqs://nowhere"}, "notifications", "subscribe")
    assert bad.returncode == 2 and "BRIDGE_SQS_QUEUE_URL: must be the queue's URL" in bad.stderr


def test_a_cancel_made_in_seller_central_reaches_commerce_through_the_queue(start_bridge, queue, commerce, amazon):
    amazon_id = amazon_order(commerce, amazon, 10)
    bridge, ctx = started(start_bridge, amazon, queue)
    subscribe(bridge)
    processed = metric("bridge_notifications_processed_total", type=ORDER_CHANGE)
    amazon.cancel_outside(amazon_id, "MERCHANT", "Out of stock")
    drive_idling(ctx, lambda: [r.state for r in bridge.cancel_requests()] == ["completed"])
    assert commerce.orders[10]["state"] == "complete"
    assert "by the seller in Seller Central (reason: Out of stock)" in comments(commerce, 10)[-1]
    assert ctx.notifications_live and metric("bridge_notifications_live") == 1
    assert metric("bridge_notifications_processed_total", type=ORDER_CHANGE) == processed + 1
    assert amazon.calls["createFeed"] == 0


def test_a_buyers_request_is_flagged_through_the_queue(start_bridge, queue, commerce, amazon):
    amazon_id = amazon_order(commerce, amazon, 20)
    bridge, ctx = started(start_bridge, amazon, queue)
    subscribe(bridge)
    amazon.request_cancel(amazon_id, "Ordered the wrong size")
    drive_idling(ctx, lambda: len(comments(commerce, 20)) == 1)
    assert "(reason: Ordered the wrong size)" in comments(commerce, 20)[0]
    assert commerce.orders[20]["state"] == "processing" and bridge.cancel_requests() == []


@BOTH_DATABASES
def test_duplicates_change_nothing_twice(start_bridge, queue, commerce, amazon):
    """The same message again (to this worker, and to a worker that never saw it), and the same change under
    another notification id: Commerce gets one write-back and one comment, whatever arrives."""
    amazon_id = amazon_order(commerce, amazon, 30)
    bridge, ctx = started(start_bridge, amazon, queue)
    subscribe(bridge)
    amazon.cancel_outside(amazon_id, "MERCHANT", "Out of stock")
    drive_idling(ctx, lambda: [r.state for r in bridge.cancel_requests()] == ["completed"])
    writes, notes = commerce_writes(commerce), comments(commerce, 30)
    [sent] = [s for s in amazon.notifications.sent if s.notification_type == ORDER_CHANGE]
    duplicates = metric("bridge_notifications_duplicates_total", type=ORDER_CHANGE)
    reads = amazon.calls["getOrder"]

    assert amazon.notifications.deliver(US_SELLER, ORDER_CHANGE, json.loads(sent.body))  # redelivered, same id
    drive_idling(ctx, lambda: metric("bridge_notifications_duplicates_total", type=ORDER_CHANGE) == duplicates + 1)
    assert amazon.calls["getOrder"] == reads  # known by its id: not even read again

    other = bridge.worker("another-worker")  # never saw it: reads the order, finds nothing new
    assert amazon.notifications.deliver(US_SELLER, ORDER_CHANGE, json.loads(sent.body))
    drive_idling(other, lambda: metric("bridge_notifications_duplicates_total", type=ORDER_CHANGE) == duplicates + 2)
    order = amazon.orders[amazon_id]
    same_change = amazon.notifications.order_change(order, "OrderStatusChange", "Seller Canceled")  # a new id
    assert amazon.notifications.deliver(US_SELLER, ORDER_CHANGE, same_change)
    drive_idling(ctx, lambda: metric("bridge_notifications_duplicates_total", type=ORDER_CHANGE) == duplicates + 3)
    for _ in range(3):
        run_round(ctx)
    assert comments(commerce, 30) == notes and commerce_writes(commerce) == writes
    assert [r.state for r in bridge.cancel_requests()] == ["completed"]


def test_a_malformed_or_foreign_message_is_removed_without_blocking_the_queue(
    start_bridge, queue, sqs, commerce, amazon, caplog
):
    amazon_id = amazon_order(commerce, amazon, 40)
    bridge, ctx = started(start_bridge, amazon, queue)
    subscribe(bridge)
    malformed = metric("bridge_notifications_malformed_total")
    secret_looking = '{"NotificationType": "ORDER_CHANGE", "Payload": "refresh-token-in-a-body"}'
    sqs.send_message(QueueUrl=queue, MessageBody=secret_looking)
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"NotificationType": "ANY_OFFER_CHANGED"}))
    with caplog.at_level(logging.WARNING):
        amazon.request_cancel(amazon_id, "Changed my mind")
        drive_idling(ctx, lambda: len(comments(commerce, 40)) == 1)
        assert eventually(lambda: metric("bridge_notifications_malformed_total") == malformed + 2)
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert (attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesNotVisible"]) == (
        "0",
        "0",
    )
    logged = "\n".join(record.getMessage() + str(record.__dict__) for record in caplog.records)
    assert "notification unreadable, deleted" in logged and "refresh-token-in-a-body" not in logged


def test_an_unreachable_queue_leaves_the_worker_polling_and_is_tried_again(
    start_bridge, sqs_env, sqs, commerce, amazon, caplog
):
    name = f"bridge-later-{uuid.uuid4().hex[:8]}"
    queue = f"{sqs_env['AWS_ENDPOINT_URL_SQS']}/123456789012/{name}"  # not created yet
    amazon_id = amazon_order(commerce, amazon, 50)
    bridge = start_bridge(**FAST_PIPELINE, BRIDGE_SQS_QUEUE_URL=queue, BRIDGE_MIRROR_REFRESH_SECONDS="1")
    ctx = bridge.worker()
    failures = metric("bridge_notification_queue_failures_total")
    with caplog.at_level(logging.WARNING):
        amazon.cancel_outside(amazon_id, "MERCHANT", "Out of stock")
        drive_idling(ctx, lambda: [r.state for r in bridge.cancel_requests()] == ["completed"])  # by polling
    assert not ctx.notifications_live and metric("bridge_notifications_live") == 0
    assert metric("bridge_notification_queue_failures_total") > failures
    assert any(r.getMessage().startswith("notification queue unreachable") for r in caplog.records)

    sqs.create_queue(QueueName=name)  # the queue is there now: the worker finds it at its next try
    drive_idling(ctx, lambda: ctx.notifications_live)
    assert metric("bridge_notifications_live") == 1


@BOTH_DATABASES
def test_a_finished_feed_is_read_at_once_not_at_its_next_poll(start_bridge, queue, commerce, amazon):
    """getFeed's cadence is an hour here: only Amazon's FEED_PROCESSING_FINISHED can make the feed read now."""
    amazon.feed_processing_delay = 0.5
    amazon_order(commerce, amazon, 60)
    hour = {"BRIDGE_FEED_POLL_SECONDS": "3600", "BRIDGE_FEED_POLL_BACKSTOP_SECONDS": "3600"}
    bridge, ctx = started(start_bridge, amazon, queue, polling=True, **hour)
    subscribe(bridge)
    assert bridge.hook().post({"id": "60"}).json() == {"op": "success"}
    assert commerce.cancel(60) == (True, None)
    bridge.hook().post_after(60, canceled=True)
    drive_idling(ctx, lambda: [r.state for r in bridge.cancel_requests()] == ["completed"])
    assert any(s.notification_type == FEED_PROCESSING_FINISHED for s in amazon.notifications.sent)
    assert metric("bridge_notifications_processed_total", type=FEED_PROCESSING_FINISHED) >= 1
    assert commerce.orders[60]["state"] == "complete"


def test_with_buyer_requests_set_to_cancel_the_bridge_cancels_it_through_the_same_reflection(
    start_bridge, queue, commerce, amazon
):
    amazon_id = amazon_order(commerce, amazon, 70)
    bridge, ctx = started(start_bridge, amazon, queue, BRIDGE_BUYER_CANCEL_REQUESTS="cancel")
    subscribe(bridge)
    amazon.request_cancel(amazon_id, "No longer needed")
    drive_idling(ctx, lambda: [r.state for r in bridge.cancel_requests()] == ["completed"])
    [request] = bridge.cancel_requests()
    assert request.source == "buyer_request" and request.reason == "BuyerCanceled"
    assert amazon.orders[amazon_id].status == "CANCELLED" and amazon.cancel_messages[amazon_id] == 1


def test_an_order_of_a_store_with_import_off_or_unknown_is_left_alone(start_bridge, queue, sqs, commerce, amazon):
    bridge, ctx = started(start_bridge, amazon, queue)
    subscribe(bridge)
    reads, processed = amazon.calls["getOrder"], metric("bridge_notifications_processed_total", type=ORDER_CHANGE)
    for seller, marketplace in (("A3SELLERDE", "A1PA6795UKMFR9"), ("A9SOMEONEELSE", "ATVPDKIKX0DER")):
        order = StandInOrder(f"303-{seller[:7]}-0000001", seller, marketplace, item_ids=["11111111111111"])
        body = amazon.notifications.order_change(order, "OrderStatusChange", "Seller Canceled")
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(body))
    drive_idling(ctx, lambda: metric("bridge_notifications_processed_total", type=ORDER_CHANGE) == processed + 2)
    assert amazon.calls["getOrder"] == reads
    assert bridge.records.mirror.find("303-A3SELLE-0000001") is None


def test_the_stand_ins_notifications_api_keeps_amazons_quota_and_wants_a_grantless_token(amazon):
    token = requests.post(
        f"{amazon.url}/auth/o2/token",
        data={"grant_type": "client_credentials", "scope": "sellingpartnerapi::notifications",
              "client_id": amazon.client_id, "client_secret": amazon.client_secret},
        timeout=5,
    ).json()["access_token"]  # fmt: skip
    answers = [
        requests.get(f"{amazon.url}/notifications/v1/destinations", headers={"x-amz-access-token": token}, timeout=5)
        for _ in range(12)
    ]
    assert [a.status_code for a in answers[:5]] == [200] * 5 and 429 in [a.status_code for a in answers[5:]]
    assert answers[-1].json()["errors"][0]["code"] == "QuotaExceeded"
    seller_token = requests.post(
        f"{amazon.url}/auth/o2/token",
        data={"grant_type": "refresh_token", "refresh_token": "Atzr|refresh-us-secret",
              "client_id": amazon.client_id, "client_secret": amazon.client_secret},
        timeout=5,
    ).json()["access_token"]  # fmt: skip
    refused = requests.get(
        f"{amazon.url}/notifications/v1/destinations", headers={"x-amz-access-token": seller_token}, timeout=5
    )
    assert refused.status_code == 403


def test_an_endpoint_nobody_answers_at_is_a_queue_unreachable_not_a_crash(sqs_env, monkeypatch):
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", closed)
    queue = SqsQueue(f"{closed}/123456789012/bridge")
    for call in (lambda: queue.receive(1), queue.arn, lambda: queue.delete(QueueMessage("m", "handle"))):
        with pytest.raises(QueueUnreachable, match="failed"):
            call()
