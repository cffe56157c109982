"""How fast Amazon's notifications, read from an SQS queue, bring what happens at Amazon to Commerce.

The bridge runs as deployed (Procfile release, gunicorn web, one worker) with the shipped default settings plus
``BRIDGE_SQS_QUEUE_URL``, against the stand-ins (SP-API calls answered in 150 ms, Commerce's in 50 ms) and a local
SQS endpoint (moto's server mode on loopback, which this script starts). Once the order mirror is warm the bridge
subscribes itself (``bridge notifications subscribe``); then, one after another:

- a cancel made in Seller Central: seconds from the stand-in sending ``ORDER_CHANGE`` to the Commerce order reading
  Complete (target 5 s), and from the cancel itself;
- a buyer's request to cancel: seconds from ``ORDER_CHANGE`` to the audit comment on the Commerce order (target 5 s);
- K Commerce cancels (``--single K``), each from the admin's click to Complete, beside the stand-in's feed
  processing time (target: that time + 5 s; getFeed is polled only every 5 minutes while notifications are live,
  so ``FEED_PROCESSING_FINISHED`` is what brings the report).

The mirror's own refresh (every 300 s by default) could bring the first two as well, but not within seconds.

    python -m bench.notifications [--single 3] [--feed-delay 5] [--env NAME=VALUE ...]

Prints the figures and writes bench/results/notifications.json. The machine's other load shows in the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from moto.server import ThreadedMotoServer
from sqlalchemy import select

from bridge.storage.engine import make_engine
from bridge.storage.tables import mirror_cursors
from standins.amazon import StandInOrder
from standins.amazon.notifications import ORDER_CHANGE
from standins.faults import Latency
from standins.procfile import run_bridge_command
from standins.world import DEMO_STORES, LocalWorld

RESULTS = Path("bench/results")
STORE = DEMO_STORES[1]  # amazon-us
SPAPI_LATENCY, COMMERCE_LATENCY = 0.15, 0.05
TARGET_S = 5.0
CLICK_GAP_SECONDS = 3.0
AWS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--single", type=int, default=3, help="Commerce cancels, one after another")
    parser.add_argument("--feed-delay", type=float, default=5.0, help="stand-in feed processing time, seconds")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE: a bridge setting for this run")
    args = parser.parse_args()
    overrides = dict(item.split("=", 1) for item in args.env)
    os.environ.update(AWS)  # boto3's credentials for the local endpoint: the stand-in's and the bridge's
    sqs_server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    sqs_server.start()
    try:
        host, port = sqs_server.get_host_and_port()
        figures = run(args, overrides, f"http://{host}:{port}")
    finally:
        sqs_server.stop()
    for key, value in figures.items():
        print(f"{key:<36}{value}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "notifications.json").write_text(json.dumps(figures, indent=2))
    return 0


def _until(condition: Callable[[], bool], limit: float, what: str) -> None:
    give_up = time.monotonic() + limit
    while not condition():
        if time.monotonic() > give_up:
            raise TimeoutError(what)
        time.sleep(0.01)


def _seed(world: LocalWorld, entity_id: int) -> str:
    amazon_id = f"403-{entity_id:07d}-{entity_id * 13:07d}"
    world.commerce.add_order(
        entity_id, store_id=STORE.commerce_store_id, payment_method="amazonpayment", po_number=amazon_id
    )
    world.amazon.add_order(StandInOrder(amazon_id, STORE.seller_id, STORE.marketplace_id))
    return amazon_id


def _mirror_warm(database_url: str, stores: int) -> Callable[[], bool]:
    engine = make_engine(database_url)

    def warm() -> bool:
        with engine.connect() as connection:
            rows = connection.execute(
                select(mirror_cursors.c.store_code).where(mirror_cursors.c.complete_as_of.is_not(None))
            ).all()
        return len(rows) >= stores

    return warm


def _sent_after(world: LocalWorld, count: int, amazon_id: str) -> float:
    """When the stand-in handed SQS the first ORDER_CHANGE of this order after the first ``count`` messages."""
    for sent in world.amazon.notifications.sent[count:]:
        if sent.notification_type == ORDER_CHANGE and amazon_id in sent.body:
            return sent.at
    raise LookupError(amazon_id)


def run(args: argparse.Namespace, overrides: dict[str, str], sqs_endpoint: str) -> dict[str, Any]:
    workdir = Path("instance/bench-notifications")
    shutil.rmtree(workdir, ignore_errors=True)
    sqs = boto3.client("sqs", endpoint_url=sqs_endpoint)
    queue_url = sqs.create_queue(QueueName=f"bridge-bench-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    world = LocalWorld(workdir.resolve()).start()
    world.amazon.feed_processing_delay = args.feed_delay
    world.amazon.latency = Latency(SPAPI_LATENCY, 0.0)
    world.commerce.latency = Latency(COMMERCE_LATENCY, 0.0)
    world.amazon.notifications.sqs_endpoint_url = sqs_endpoint
    figures: dict[str, Any] = {"settings": {"BRIDGE_SQS_QUEUE_URL": queue_url, **overrides}}
    try:
        env = world.bridge_env(BRIDGE_SQS_QUEUE_URL=queue_url, AWS_ENDPOINT_URL_SQS=sqs_endpoint, **AWS, **overrides)
        seller_central, buyer = _seed(world, 1), _seed(world, 2)
        clicks = [3 + k for k in range(args.single)]
        for entity_id in clicks:
            _seed(world, entity_id)
        web = world.start_bridge(env, log_file=workdir / "web.log")
        world.start_worker(env, log_file=workdir / "worker.log")
        _until(_mirror_warm(env["DATABASE_URL"], sum(s.order_import for s in world.stores)), 120, "mirror warm")
        run_bridge_command(env, "notifications", "subscribe")
        time.sleep(CLICK_GAP_SECONDS)  # the worker is idle again, long-polling the queue

        count = len(world.amazon.notifications.sent)
        changed = time.monotonic()
        world.amazon.cancel_outside(seller_central, "MERCHANT", "Out of stock")
        _until(lambda: world.commerce.orders[1]["state"] == "complete", 120, "Seller Central cancel")
        done = time.monotonic()
        sent = _sent_after(world, count, seller_central)
        figures["seller_central_cancel_s"] = round(done - sent, 2)
        figures["seller_central_cancel_from_change_s"] = round(done - changed, 2)

        time.sleep(CLICK_GAP_SECONDS)
        count = len(world.amazon.notifications.sent)
        world.amazon.request_cancel(buyer, "Ordered by mistake")
        _until(lambda: bool(world.commerce.orders[2]["status_histories"]), 120, "buyer's request flagged")
        figures["buyer_request_flagged_s"] = round(time.monotonic() - _sent_after(world, count, buyer), 2)
        figures["target_s"] = TARGET_S

        seconds = []
        world.commerce.cancel_hook = world.hook(web.url)
        for entity_id in clicks:
            time.sleep(CLICK_GAP_SECONDS)
            clicked = time.monotonic()
            canceled, message = world.commerce.cancel(entity_id)
            if not canceled:
                raise RuntimeError(f"order {entity_id} was not canceled: {message}")
            _until(lambda e=entity_id: world.commerce.orders[e]["state"] == "complete", 600, f"order {entity_id}")
            seconds.append(round(time.monotonic() - clicked, 2))
        figures["feed_processing_s"] = args.feed_delay
        figures["click_to_complete_s"] = seconds
        figures["click_target_s"] = args.feed_delay + TARGET_S
        figures["within_targets"] = (
            figures["seller_central_cancel_s"] <= TARGET_S
            and figures["buyer_request_flagged_s"] <= TARGET_S
            and all(s <= args.feed_delay + TARGET_S for s in seconds)
        )
    finally:
        world.amazon.notifications.stop()
        world.stop()
    calls = dict(sorted(world.amazon.calls.items()))
    figures["notifications_sent"] = len(world.amazon.notifications.sent)
    figures["getFeed_calls"] = calls.get("getFeed", 0)
    figures["searchOrders_calls"] = calls.get("searchOrders", 0)
    figures["spapi_429s_caused"] = sum(world.amazon.throttled.values())
    return figures


if __name__ == "__main__":
    sys.exit(main())
