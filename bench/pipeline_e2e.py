"""End to end: accepted cancels from the admin's click to the Commerce order written back as Complete.

The bridge runs as deployed (Procfile release, web and worker; SQLite unless --postgres) against the stand-ins at
Amazon's published quotas, with the shipped default settings (a setting given with --env replaces its default).

- Default: N orders whose webhooks go one after another, as Commerce sends them; an order answered "try again"
  (getOrder quota used up within the webhook budget) is sent again two seconds later, as an admin would retry it.
  The figure is from the first webhook to the last order Complete.
- ``--single K``: one cancel at a time, K times in a row, each as the admin's click does it in Commerce (the
  signed ``before`` hook, Commerce's cancel, the ``after`` hook), with SP-API calls taking 150 ms and Commerce's
  50 ms, once the order mirror is warm. Each figure is from the click to that order reading Complete in
  Commerce, printed beside the stand-in's feed processing time: the target is that time + 5 s.

    python -m bench.pipeline_e2e [--orders 200 | --single 3] [--feed-delay 30] [--env NAME=VALUE ...] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bridge.storage.engine import make_engine
from bridge.storage.request_queries import RequestQueries
from bridge.storage.tables import mirror_cursors
from standins.amazon import StandInOrder
from standins.databases import throwaway_schema
from standins.faults import Latency
from standins.world import DEMO_STORES, LocalWorld

RESULTS = Path("bench/results")
STORE = DEMO_STORES[1]  # amazon-us
ADMIN_RETRY_SECONDS = 2.0
SPAPI_LATENCY, COMMERCE_LATENCY = 0.15, 0.05
TARGET_OVER_PROCESSING_S = 5.0
CLICK_GAP_SECONDS = 3.0  # between one order reading Complete and the admin's next click


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--single", type=int, default=0, help="one cancel at a time, this many times in a row")
    parser.add_argument("--feed-delay", type=float, default=None, help="stand-in feed processing time, seconds "
                        "(default 30, or 5 with --single)")  # fmt: skip
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE: a bridge setting for this run")
    parser.add_argument("--postgres", default=None)
    args = parser.parse_args()
    if args.feed_delay is None:
        args.feed_delay = 5.0 if args.single else 30.0
    overrides = dict(item.split("=", 1) for item in args.env)
    with ExitStack() as stack:
        database_url = stack.enter_context(throwaway_schema(args.postgres, "bench")) if args.postgres else None
        if database_url:
            overrides["DATABASE_URL"] = database_url
        figures = single(args, overrides) if args.single else batch(args, overrides)
    settings = {name: value for name, value in overrides.items() if name != "DATABASE_URL"}  # may hold a password
    figures = {"database": "postgresql" if args.postgres else "sqlite", "settings": settings, **figures}
    for key, value in figures.items():
        print(f"{key:<28}{value}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "pipeline_e2e_single.json" if args.single else "pipeline_e2e.json"
    (RESULTS / name).write_text(json.dumps(figures, indent=2))
    return 0


def _seed(world: LocalWorld, entity_id: int) -> None:
    amazon_id = f"402-{entity_id:07d}-{entity_id * 17:07d}"
    world.commerce.add_order(
        entity_id, store_id=STORE.commerce_store_id, payment_method="amazonpayment", po_number=amazon_id
    )
    world.amazon.add_order(StandInOrder(amazon_id, STORE.seller_id, STORE.marketplace_id))


def _wait_for_warm_mirror(database_url: str, stores: int, limit: float = 120.0) -> None:
    """The worker's first rounds fill the order mirror; a cancel made before that is not what one measures."""
    engine = make_engine(database_url)
    give_up = time.monotonic() + limit
    try:
        while time.monotonic() < give_up:
            with engine.connect() as connection:
                warm = connection.execute(
                    select(mirror_cursors.c.store_code).where(mirror_cursors.c.complete_as_of.is_not(None))
                ).all()
            if len(warm) >= stores:
                return
            time.sleep(0.2)
    finally:
        engine.dispose()
    raise TimeoutError("the order mirror did not warm up")


def single(args: argparse.Namespace, overrides: dict[str, str]) -> dict[str, Any]:
    """K cancels one after another, each timed from the admin's click to Complete."""
    workdir = Path("instance/bench-e2e-single")
    shutil.rmtree(workdir, ignore_errors=True)
    world = LocalWorld(workdir.resolve()).start()
    world.amazon.feed_processing_delay = args.feed_delay
    world.amazon.latency = Latency(SPAPI_LATENCY, 0.0)
    world.commerce.latency = Latency(COMMERCE_LATENCY, 0.0)
    seconds: list[float] = []
    try:
        env = world.bridge_env(**overrides)
        entity_ids = list(range(1, args.single + 1))
        for entity_id in entity_ids:
            _seed(world, entity_id)
        web = world.start_bridge(env, log_file=workdir / "web.log")
        world.start_worker(env, log_file=workdir / "worker.log")
        _wait_for_warm_mirror(env["DATABASE_URL"], sum(store.order_import for store in world.stores))
        world.commerce.cancel_hook = world.hook(web.url)
        for entity_id in entity_ids:
            time.sleep(CLICK_GAP_SECONDS)
            clicked = time.monotonic()
            canceled, message = world.commerce.cancel(entity_id)
            if not canceled:
                raise RuntimeError(f"order {entity_id} was not canceled: {message}")
            while world.commerce.orders[entity_id]["state"] != "complete":
                if time.monotonic() - clicked > args.feed_delay + 600:
                    raise TimeoutError(f"order {entity_id} never read Complete")
                time.sleep(0.02)
            seconds.append(round(time.monotonic() - clicked, 2))
    finally:
        world.stop()
    calls = dict(sorted(world.amazon.calls.items()))
    return {
        "cancels": args.single,
        "feed_processing_s": args.feed_delay,
        "target_s": args.feed_delay + TARGET_OVER_PROCESSING_S,
        "click_to_complete_s": seconds,
        "over_processing_s": [round(s - args.feed_delay, 2) for s in seconds],
        "within_target": all(s <= args.feed_delay + TARGET_OVER_PROCESSING_S for s in seconds),
        "latency_ms": {"spapi": SPAPI_LATENCY * 1000, "commerce": COMMERCE_LATENCY * 1000},
        "getFeed_calls": calls.get("getFeed", 0),
        "spapi_calls": calls,
        "spapi_429s_caused": sum(world.amazon.throttled.values()),
    }


def batch(args: argparse.Namespace, overrides: dict[str, str]) -> dict[str, Any]:
    workdir = Path("instance/bench-e2e")
    shutil.rmtree(workdir, ignore_errors=True)
    world = LocalWorld(workdir.resolve()).start()
    world.amazon.feed_processing_delay = args.feed_delay
    try:
        env = world.bridge_env(**overrides)
        entity_ids = list(range(1, args.orders + 1))
        for entity_id in entity_ids:
            _seed(world, entity_id)
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
    return {
        "orders": args.orders,
        "feed_processing_delay_s": args.feed_delay,
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


if __name__ == "__main__":
    sys.exit(main())
