"""End to end: N accepted cancels from the first webhook to the last Commerce order written back as Complete.

The bridge runs as deployed (Procfile release, web and worker; SQLite unless --postgres) against the stand-ins at
Amazon's published quotas. Webhooks go one after another, as Commerce sends them; an order answered "try again"
(getOrder quota used up within the webhook budget) is sent again two seconds later, as an admin would retry it.

    python bench/pipeline_e2e.py [--orders 200] [--feed-delay 30] [--poll-initial 5] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from bridge.storage.engine import make_engine
from bridge.storage.request_queries import RequestQueries
from standins.amazon import StandInOrder
from standins.databases import throwaway_schema
from standins.world import DEMO_STORES, LocalWorld

RESULTS = Path("bench/results")
STORE = DEMO_STORES[1]  # amazon-us
ADMIN_RETRY_SECONDS = 2.0
PRESIGNED_TRANSFERS = ("uploadFeedDocument", "downloadFeedDocument")  # plain HTTPS to S3, not SP-API operations


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--feed-delay", type=float, default=30.0, help="stand-in feed processing delay, seconds")
    parser.add_argument("--poll-initial", type=float, default=5.0, help="BRIDGE_FEED_POLL_INITIAL_SECONDS")
    parser.add_argument("--postgres", default=None)
    args = parser.parse_args()

    with ExitStack() as stack:
        database_url = stack.enter_context(throwaway_schema(args.postgres, "bench")) if args.postgres else None
        return run(args, database_url)


def run(args: argparse.Namespace, database_url: str | None) -> int:
    workdir = Path("instance/bench-e2e")
    shutil.rmtree(workdir, ignore_errors=True)
    world = LocalWorld(workdir.resolve()).start()
    world.amazon.feed_processing_delay = args.feed_delay
    try:
        env = world.bridge_env(
            BRIDGE_FEED_POLL_INITIAL_SECONDS=str(args.poll_initial),
            BRIDGE_FEED_POLL_MAX_SECONDS=str(max(args.poll_initial, 30.0)),
            BRIDGE_WORKER_IDLE_SECONDS="0.5",
            **({"DATABASE_URL": database_url} if database_url else {}),
        )
        entity_ids = list(range(1, args.orders + 1))
        for entity_id in entity_ids:
            amazon_id = f"402-{entity_id:07d}-{entity_id * 17:07d}"
            world.commerce.add_order(
                entity_id, store_id=STORE.commerce_store_id, payment_method="amazonpayment", po_number=amazon_id
            )
            world.amazon.add_order(StandInOrder(amazon_id, STORE.seller_id, STORE.marketplace_id))
        web = world.start_bridge(env, log_file=workdir / "web.log")
        world.start_worker(env, log_file=workdir / "worker.log")
        hook = world.hook(web.url)

        started = time.monotonic()
        sends, try_again = 0, 0
        for entity_id in entity_ids:
            while True:
                sends += 1
                if hook.post({"subject": [], "id": str(entity_id)}).json()["op"] == "success":
                    break
                try_again += 1
                time.sleep(ADMIN_RETRY_SECONDS)
        webhooks_done = time.monotonic() - started
        while any(world.commerce.orders[e]["state"] != "complete" for e in entity_ids):
            time.sleep(0.5)
        total = time.monotonic() - started
        requests = RequestQueries(make_engine(env["DATABASE_URL"])).all()
    finally:
        world.stop()

    calls = dict(sorted(world.amazon.calls.items()))
    figures = {
        "orders": args.orders,
        "database": "postgresql" if args.postgres else "sqlite",
        "feed_processing_delay_s": args.feed_delay,
        "feed_poll_initial_s": args.poll_initial,
        "webhook_calls": sends,
        "try_again_answers": try_again,
        "webhooks_done_s": round(webhooks_done, 1),
        "all_complete_s": round(total, 1),
        "feeds_created": calls.get("createFeed", 0),
        "spapi_calls": calls,
        "spapi_calls_total": sum(
            v for k, v in calls.items() if not k.endswith("FeedDocument") or k.startswith(("create", "get"))
        ),
        "spapi_429s_caused": sum(world.amazon.throttled.values()),
        "requests_completed": sum(r.state == "completed" for r in requests),
    }
    for key, value in figures.items():
        print(f"{key:<26}{value}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "pipeline_e2e.json").write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
