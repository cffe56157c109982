"""A mass cancel with warm mirrors, and how fast a cancel made at Amazon reaches Commerce.

The bridge runs as deployed (Procfile release, gunicorn web, one worker) against the stand-ins, which answer SP-API
calls in 150 ms and Commerce calls in 50 ms. A 200-order mass cancel is sent the way Commerce sends it: for each
order, its ``before`` hook, Commerce's own cancel, its ``after`` hook, one order after another.

  warm:  the worker has filled both mirrors (Commerce links and Amazon statuses) before the admin clicks;
  live:  today's way before the link mirror: Amazon statuses are mirrored, each hook reads the Commerce order live.

The worker is stopped while the admin clicks, so every outbound call counted is one the hooks made themselves.
Then, with the worker running, an order is canceled at Amazon (by the seller in Seller Central) and the time until
its Commerce order reads Complete is measured.

    python -m bench.warm_mirrors [--postgres URL | --sqlite] [--orders 200] [--amazon-refresh 30]

Prints one table and writes bench/results/warm_mirrors.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench.figures import database, percentile
from standins.amazon import StandInOrder
from standins.commerce_webhook import CommerceWebhook, HookCall
from standins.databases import postgres_reachable
from standins.faults import Latency
from standins.world import DEMO_STORES, LocalWorld

RESULTS = Path("bench/results")
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
STORE = DEMO_STORES[1]  # amazon-us
HOOK_CALLS = ("GET /rest/V1/orders/<int:entity_id>", "getOrder")  # what a hook may call: the order, its status


class TimedHooks(CommerceWebhook):
    """Commerce's hooks, timing each call as Commerce's side sees it."""

    latencies: dict[str, list[float]]

    def post(self, payload: dict[str, object], url: str | None = None) -> HookCall:
        started = time.perf_counter()
        try:
            return super().post(payload, url)
        finally:
            hook = "after" if url else "before"
            self.latencies.setdefault(hook, []).append((time.perf_counter() - started) * 1000)


def wait_for(condition: Any, limit: float, what: str) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > limit:
            raise TimeoutError(what)
        time.sleep(0.05)
    return time.monotonic() - started


def mirrors_warm(database_url: str) -> bool:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            amazon = connection.execute(
                text("SELECT count(*) FROM mirror_cursors WHERE complete_as_of IS NOT NULL")
            ).scalar_one()
            links = connection.execute(
                text("SELECT count(*) FROM commerce_link_cursors WHERE complete_as_of IS NOT NULL")
            ).scalar_one()
        return amazon >= 2 and links >= 1
    except Exception:
        return False
    finally:
        engine.dispose()


def amazon_id_of(entity_id: int) -> str:
    return f"113-{entity_id:07d}-{entity_id * 31 % 10**7:07d}"


def seed_amazon(world: LocalWorld, ids: range) -> None:
    for entity_id in ids:
        world.amazon.add_order(StandInOrder(amazon_id_of(entity_id), STORE.seller_id, STORE.marketplace_id))


def seed_commerce(world: LocalWorld, ids: range) -> None:
    for entity_id in ids:
        world.commerce.add_order(
            entity_id,
            store_id=STORE.commerce_store_id,
            payment_method="amazonpayment",
            po_number=amazon_id_of(entity_id),
        )


def run(way: str, orders: int, postgres: str | None, amazon_refresh: float) -> dict[str, Any]:
    workdir = Path(f"instance/bench-warm/{way}").resolve()
    shutil.rmtree(workdir, ignore_errors=True)
    world = LocalWorld(workdir).start()
    try:
        with database(postgres, workdir) as database_url:
            env = world.bridge_env(
                DATABASE_URL=database_url,
                BRIDGE_MIRROR_REFRESH_SECONDS=str(amazon_refresh),
                BRIDGE_COMMERCE_LINKS_REFRESH_SECONDS="5",
                BRIDGE_WORKER_IDLE_SECONDS="0.5",
            )
            cancel_ids = range(1, orders + 1)
            seed_amazon(world, cancel_ids)  # both ways: the Amazon mirror knows every order's status
            if way == "warm":  # imported into Commerce before the worker's first rounds: the link mirror knows them
                seed_commerce(world, cancel_ids)
            web = world.start_bridge(env, workdir / "web.log")
            worker = world.start_worker(env, workdir / "worker.log")
            wait_for(lambda: mirrors_warm(database_url), 120, "mirrors did not warm up")
            worker.stop()
            if way == "live":  # the link mirror has none of them: each hook reads its order from Commerce
                seed_commerce(world, cancel_ids)
            world.amazon.latency = Latency(0.15)
            world.commerce.latency = Latency(0.05)
            hooks = TimedHooks(
                f"{web.url}/webhooks/commerce/order-cancel",
                after_url=f"{web.url}/webhooks/commerce/order-cancel-after",
                private_key=world.private_key,
            )
            hooks.latencies = {}
            world.commerce.cancel_hook = hooks
            calls_before = {name: world.amazon.calls[name] + world.commerce.calls[name] for name in HOOK_CALLS}
            throttled_before = sum(world.amazon.throttled.values())
            started = time.perf_counter()
            canceled = sum(world.commerce.cancel(entity_id)[0] for entity_id in cancel_ids)
            admin_wait = time.perf_counter() - started
            hook_calls = {
                name: world.amazon.calls[name] + world.commerce.calls[name] - calls_before[name] for name in HOOK_CALLS
            }
            before, after = hooks.latencies["before"], hooks.latencies.get("after", [])
            # What each admin cancel spent in the hooks, its before and after together (when every order was canceled).
            both = [b + a for b, a in zip(before, after, strict=True)] if len(after) == len(before) else []
            figures: dict[str, Any] = {
                "orders": orders,
                "canceled_in_commerce": canceled,
                "admin_wait_s": round(admin_wait, 2),
                "before_median_ms": round(statistics.median(before), 1),
                "before_p99_ms": round(percentile(before, 0.99), 1),
                "after_median_ms": round(statistics.median(after), 1) if after else None,
                "after_p99_ms": round(percentile(after, 0.99), 1) if after else None,
                "cancel_hooks_p99_ms": round(percentile(both, 0.99), 1) if both else None,
                "hook_calls_to_commerce": hook_calls[HOOK_CALLS[0]],
                "hook_calls_to_amazon": hook_calls[HOOK_CALLS[1]],
                "spapi_429s": sum(world.amazon.throttled.values()) - throttled_before,
            }
            if way == "warm":
                world.start_worker(env, workdir / "worker2.log")
                figures["amazon_side_cancel_to_commerce_s"] = amazon_side_cancel(world, orders + 1, amazon_refresh)
            return figures
    finally:
        world.stop()


def amazon_side_cancel(world: LocalWorld, entity_id: int, amazon_refresh: float) -> float:
    """Seconds from a cancel in Seller Central to the Commerce order reading Complete (the order was imported a
    few seconds before, so that the link mirror's next round has it)."""
    seed_amazon(world, range(entity_id, entity_id + 1))
    seed_commerce(world, range(entity_id, entity_id + 1))
    time.sleep(6)  # the link mirror looks every 5 s here: a bench pace, not a synchronisation
    world.amazon.cancel_outside(amazon_id_of(entity_id), "MERCHANT", "Out of stock")
    limit = amazon_refresh * 3 + 60
    elapsed = wait_for(lambda: world.commerce.orders[entity_id]["state"] == "complete", limit, "never reached Commerce")
    return round(elapsed, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--sqlite", action="store_true", help="use SQLite even if PostgreSQL is reachable")
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--amazon-refresh", type=float, default=30.0, help="BRIDGE_MIRROR_REFRESH_SECONDS")
    args = parser.parse_args()
    postgres = None if args.sqlite or not postgres_reachable(args.postgres) else args.postgres
    results = {way: run(way, args.orders, postgres, args.amazon_refresh) for way in ("warm", "live")}
    keys = list(results["warm"])
    width = max(len(key) for key in keys)
    print(f"database: {'postgresql' if postgres else 'sqlite'}; SP-API 150 ms, Commerce 50 ms per call")
    print(f"{'':<{width}}  {'warm':>10}  {'live link':>10}")
    for key in keys:
        values = [str(results[way].get(key, "-")) for way in ("warm", "live")]
        print(f"{key:<{width}}  {values[0]:>10}  {values[1]:>10}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "warm_mirrors.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
