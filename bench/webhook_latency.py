"""Webhook latency of the bridge as deployed (Procfile release + gunicorn) against the local stand-ins.

Sends signed cancel webhooks one after another, as Commerce does, and prints median / p90 / p99 / max as
Commerce's side sees them. The mix: a quarter of orders are not Amazon orders, the rest are Amazon orders
spread over ten sellers so that no seller exceeds getOrder's burst (quota waits are measured by mass_cancel.py, not
this figure's). Stand-ins answer without added latency, so the figures are the bridge's own cost plus loopback.

    python -m bench.webhook_latency [--requests 300] [--postgres URL]

With --postgres, the run uses a throwaway schema in that database and drops it afterwards.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from bench.figures import percentile
from standins.amazon import StandInOrder
from standins.databases import throwaway_schema
from standins.world import DemoStore, LocalWorld

RESULTS = Path("bench/results")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL; default: SQLite in instance/bench")
    args = parser.parse_args()
    with ExitStack() as stack:
        database_url = stack.enter_context(throwaway_schema(args.postgres, "bench")) if args.postgres else None
        return run(args, database_url)


def run(args: argparse.Namespace, database_url: str | None) -> int:

    stores = tuple(
        DemoStore(f"seller-{n}", n, f"A{n:02d}BENCHSELLER", "APJ6JRA9NG5V4", "eu", True, "NoInventory", "it_IT")
        for n in range(1, 11)
    )
    workdir = Path("instance/bench")
    shutil.rmtree(workdir, ignore_errors=True)
    world = LocalWorld(workdir.resolve(), stores=stores).start()
    try:
        env = world.bridge_env(**({"DATABASE_URL": database_url} if database_url else {}))
        web = world.start_bridge(env, log_file=workdir / "web.log")
        hook = world.hook(web.url)
        decisions: dict[str, int] = {}
        for entity_id in range(1, args.requests + 1):
            if entity_id % 4 == 0:
                world.commerce.add_order(entity_id, store_id=1, payment_method="checkmo")
                continue
            store = stores[entity_id % len(stores)]
            amazon_id = f"171-{entity_id:07d}-{entity_id * 13:07d}"
            world.commerce.add_order(
                entity_id, store_id=store.commerce_store_id, payment_method="amazonpayment", po_number=amazon_id
            )
            status = "UNSHIPPED" if entity_id % 3 else "SHIPPED"
            world.amazon.add_order(StandInOrder(amazon_id, store.seller_id, store.marketplace_id, status=status))

        latencies = []
        started = time.perf_counter()
        for entity_id in range(1, args.requests + 1):
            sent = time.perf_counter()
            answer = hook.post({"subject": [], "id": str(entity_id)}).json()
            latencies.append((time.perf_counter() - sent) * 1000)
            decisions[answer["op"]] = decisions.get(answer["op"], 0) + 1
        total = time.perf_counter() - started
    finally:
        world.stop()

    figures = {
        "requests": args.requests,
        "database": "postgresql" if args.postgres else "sqlite",
        "median_ms": round(statistics.median(latencies), 1),
        "p90_ms": round(percentile(latencies, 0.90), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "max_ms": round(max(latencies), 1),
        "total_s": round(total, 2),
        "answers": decisions,
        "spapi_calls": dict(world.amazon.calls),
        "spapi_429s_caused": sum(world.amazon.throttled.values()),
        "lwa_exchanges": world.amazon.token_exchanges,
    }
    print(f"{'requests':<22}{figures['requests']} ({figures['database']}, gunicorn from the Procfile)")
    for key in ("median_ms", "p90_ms", "p99_ms", "max_ms", "total_s", "answers", "spapi_calls", "spapi_429s_caused"):
        print(f"{key:<22}{figures[key]}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "webhook_latency.json").write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
