"""Mass cancels at Amazon's quotas: the bridge as deployed, side by side with a naive strategy, in one run.

Stand-ins enforce Amazon's published quotas, answer SP-API calls in 150 ms and Commerce calls in 50 ms. The bridge
runs from the Procfile (gunicorn web, one worker), on PostgreSQL when reachable (a throwaway schema per run),
else SQLite. "naive" is the same code configured the naive way: every webhook reads Amazon live (no mirror), one
feed per cancel, orders checked and confirmed one getOrder at a time, write-backs one at a time.

  A. a 200-order mass cancel sent as Commerce sends it, one call after another;
  B. 1,000 accepted cancels over two marketplaces (two sellers), feed processing delay 30 s;
  C. 500 webhooks at concurrency 8 against four gunicorn workers.

    python -m bench.mass_cancel [--postgres URL | --sqlite] [--naive-cap 180]

Prints one table and writes bench/results/mass_cancel.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.figures import database, percentile
from bridge.storage.engine import make_engine
from bridge.storage.tables import mirror_cursors
from standins.amazon import StandInOrder
from standins.databases import postgres_reachable
from standins.faults import Latency
from standins.world import DEMO_STORES, LocalWorld

RESULTS = Path("bench/results")
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
STORES = DEMO_STORES[:2]  # amazon-it (seller A1SELLERIT) and amazon-us (A2SELLERUS): two marketplaces
PRESIGNED_TRANSFERS = ("uploadFeedDocument", "downloadFeedDocument")  # S3 URLs, not SP-API operations
FEED_DELAY = 30.0
STRATEGIES: dict[str, dict[str, str]] = {
    "bridge": {"BRIDGE_WRITE_BACK_CONCURRENCY": "8"},
    "naive": {
        "BRIDGE_MIRROR_MAX_AGE_SECONDS": "0",
        "BRIDGE_FEED_MAX_MESSAGES": "1",
        "BRIDGE_FEED_GATHER_SECONDS": "0",
        "BRIDGE_FEED_MAX_WAIT_SECONDS": "0",
        "BRIDGE_WRITE_BACK_CONCURRENCY": "1",
    },
}


class Run:
    """One strategy in one scenario: fresh stand-ins, fresh database, web and worker from the Procfile."""

    def __init__(self, name: str, strategy: str, postgres: str | None, web_workers: int) -> None:
        self.workdir = Path(f"instance/bench-mass/{name}-{strategy}").resolve()
        shutil.rmtree(self.workdir, ignore_errors=True)
        self.world = LocalWorld(self.workdir, stores=STORES).start()
        self.world.amazon.latency = Latency(0.15, 0.0)
        self.world.commerce.latency = Latency(0.05, 0.0)
        self.world.amazon.feed_processing_delay = FEED_DELAY
        self.strategy = strategy
        self._database = database(postgres, self.workdir)
        self.database_url = self._database.__enter__()
        self.env = self.world.bridge_env(
            DATABASE_URL=self.database_url, WEB_CONCURRENCY=str(web_workers), **STRATEGIES[strategy]
        )

    def seed(self, count: int, first_id: int = 1) -> list[int]:
        ids = list(range(first_id, first_id + count))
        for entity_id in ids:
            store = STORES[entity_id % len(STORES)]
            amazon_id = f"{171 + entity_id % 2}-{entity_id:07d}-{entity_id * 31 % 10**7:07d}"
            self.world.commerce.add_order(
                entity_id, store_id=store.commerce_store_id, payment_method="amazonpayment", po_number=amazon_id
            )
            self.world.amazon.add_order(StandInOrder(amazon_id, store.seller_id, store.marketplace_id))
        return ids

    def start(self) -> None:
        self.web = self.world.start_bridge(self.env, self.workdir / "web.log")
        self.world.start_worker(self.env, self.workdir / "worker.log")
        self.hook = self.world.hook(self.web.url)
        self.world.commerce.cancel_hook = self.hook
        if self.strategy == "bridge":
            self._wait_for_warm_mirror()
        self.world.amazon.calls.clear()  # count from the first webhook on (the quotas themselves carry over)
        self.world.amazon.throttled.clear()

    def _wait_for_warm_mirror(self, limit: float = 120.0) -> None:
        engine = make_engine(self.database_url)
        give_up = time.monotonic() + limit
        while time.monotonic() < give_up:
            with engine.connect() as connection:
                warm = connection.execute(select(mirror_cursors.c.store_code).where(
                    mirror_cursors.c.complete_as_of.is_not(None))).all()  # fmt: skip
            if len(warm) == len(STORES):
                engine.dispose()
                return
            time.sleep(0.2)
        raise TimeoutError("the order mirror did not warm up")

    def cancel(self, entity_id: int) -> tuple[float, bool]:
        """One webhook as Commerce sends it: its latency, and whether it was a decision (not "try again")."""
        started = time.perf_counter()
        answer = self.hook.post({"subject": [], "id": str(entity_id)}).json()
        elapsed = (time.perf_counter() - started) * 1000
        return elapsed, not (answer["op"] == "exception" and "Try again" in answer.get("message", ""))

    def spapi(self) -> dict[str, Any]:
        calls = {k: v for k, v in sorted(self.world.amazon.calls.items()) if k not in PRESIGNED_TRANSFERS}
        throttled = {k: self.world.amazon.throttled.get(k, 0) for k in calls}  # 429s the quota caused
        return {
            "calls": calls,
            "total": sum(calls.values()),
            "429s": sum(throttled.values()),
            "429s_by_operation": throttled,
        }

    def close(self) -> None:
        self.world.stop()
        self._database.__exit__(None, None, None)


def latency_figures(latencies: list[float], decided: list[bool]) -> dict[str, Any]:
    return {
        "webhooks": len(latencies),
        "admin_wait_s": round(sum(latencies) / 1000, 1),
        "median_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "max_ms": round(max(latencies), 1),
        "try_again": decided.count(False),
    }


def scenario_a(strategy: str, postgres: str | None) -> dict[str, Any]:
    run = Run("a", strategy, postgres, web_workers=2)
    try:
        ids = run.seed(200)
        run.start()
        results = [run.cancel(entity_id) for entity_id in ids]
        figures = latency_figures([r[0] for r in results], [r[1] for r in results])
        figures["spapi"] = run.spapi()
        return figures
    finally:
        run.close()


def scenario_b(strategy: str, postgres: str | None, cap: float) -> dict[str, Any]:
    run = Run("b", strategy, postgres, web_workers=2)
    try:
        ids = run.seed(1000)
        run.start()
        started = time.monotonic()
        pending = list(ids)
        sends = 0
        lock = threading.Lock()

        def send(entity_id: int) -> bool:
            """The admin's Cancel: Commerce calls the hook, then cancels the order if the bridge said so."""
            nonlocal sends
            with lock:
                sends += 1
            return run.world.commerce.cancel(entity_id)[0]

        with ThreadPoolExecutor(max_workers=4) as pool:  # a few admins or an automation, in parallel
            while pending and time.monotonic() - started < cap:
                accepted = list(pool.map(send, pending))
                pending = [e for e, ok in zip(pending, accepted, strict=True) if not ok]
        last_webhook = time.monotonic()
        while time.monotonic() - started < cap + FEED_DELAY * 3:
            done = sum(run.world.commerce.orders[e]["state"] == "complete" for e in ids)
            if done == len(ids):
                break
            time.sleep(0.5)
        finished = time.monotonic()
        complete = sum(run.world.commerce.orders[e]["state"] == "complete" for e in ids)
        return {
            "accepted": len(ids) - len(pending),
            "webhook_calls": sends,
            "webhooks_s": round(last_webhook - started, 1),
            "complete": complete,
            "complete_after_last_webhook_s": round(finished - last_webhook, 1) if complete == len(ids) else None,
            "stopped_after_s": round(finished - started, 1),
            "feeds": run.world.amazon.calls.get("createFeed", 0),
            "spapi": run.spapi(),
            "write_back_parallel_calls": int(STRATEGIES[strategy]["BRIDGE_WRITE_BACK_CONCURRENCY"]),
        }
    finally:
        run.close()


def scenario_c(strategy: str, postgres: str | None) -> dict[str, Any]:
    run = Run("c", strategy, postgres, web_workers=4)
    try:
        ids = run.seed(500)
        run.start()
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(run.cancel, ids))
        figures = latency_figures([r[0] for r in results], [r[1] for r in results])
        figures["spapi"] = run.spapi()
        return figures
    finally:
        run.close()


def postgres_url(args: argparse.Namespace) -> str | None:
    return None if args.sqlite or not postgres_reachable(args.postgres) else args.postgres


def table(results: dict[str, dict[str, Any]]) -> str:
    rows: list[tuple[str, str, str]] = []

    def add(label: str, path: tuple[str, ...]) -> None:
        values = []
        for strategy in STRATEGIES:
            value: Any = results[strategy]
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            values.append("-" if value is None else str(value))
        rows.append((label, *values))

    rows.append(("A. 200-order mass cancel, one call after another", "", ""))
    for key in ("admin_wait_s", "median_ms", "p99_ms", "max_ms", "try_again"):
        add(f"   {key}", ("A", key))
    add("   SP-API calls", ("A", "spapi", "total"))
    add("   429s", ("A", "spapi", "429s"))
    rows.append(("B. 1,000 cancels, 2 marketplaces, feed delay 30 s", "", ""))
    for key in ("accepted", "webhook_calls", "webhooks_s", "complete", "complete_after_last_webhook_s",
                "stopped_after_s", "feeds"):  # fmt: skip
        add(f"   {key}", ("B", key))
    for op in ("getOrder", "searchOrders", "createFeedDocument", "createFeed", "getFeed", "getFeedDocument"):
        add(f"   {op}", ("B", "spapi", "calls", op))
    add("   SP-API calls in all", ("B", "spapi", "total"))
    add("   429s", ("B", "spapi", "429s"))
    for op in ("getOrder", "searchOrders", "createFeedDocument", "createFeed", "getFeed", "getFeedDocument"):
        add(f"   429s {op}", ("B", "spapi", "429s_by_operation", op))
    add("   write-back parallel calls", ("B", "write_back_parallel_calls"))
    rows.append(("C. 500 webhooks, concurrency 8, 4 gunicorn workers", "", ""))
    for key in ("median_ms", "p99_ms", "max_ms", "try_again"):
        add(f"   {key}", ("C", key))
    add("   429s", ("C", "spapi", "429s"))
    width = max(len(r[0]) for r in rows)
    lines = [f"{'':<{width}}  {'bridge':>10}  {'naive':>10}"]
    lines += [f"{label:<{width}}  {a:>10}  {b:>10}" for label, a, b in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--sqlite", action="store_true", help="use SQLite even if PostgreSQL is reachable")
    parser.add_argument("--naive-cap", type=float, default=180.0, help="seconds the naive run of B may take")
    parser.add_argument("--only", default="ABC", help="scenarios to run, e.g. A or BC")
    parser.add_argument("--strategies", default=",".join(STRATEGIES), help="e.g. bridge (naive is the slow one)")
    args = parser.parse_args()
    postgres = postgres_url(args)
    results: dict[str, dict[str, Any]] = {strategy: {} for strategy in STRATEGIES}
    for strategy in args.strategies.split(","):
        if "A" in args.only:
            results[strategy]["A"] = scenario_a(strategy, postgres)
        if "B" in args.only:
            results[strategy]["B"] = scenario_b(strategy, postgres, 600.0 if strategy == "bridge" else args.naive_cap)
        if "C" in args.only:
            results[strategy]["C"] = scenario_c(strategy, postgres)
    results_meta = {"database": "postgresql" if postgres else "sqlite", "feed_processing_delay_s": FEED_DELAY,
                    "latency": {"spapi_ms": 150, "commerce_ms": 50}, "strategies": STRATEGIES}  # fmt: skip
    print(f"database: {results_meta['database']}; SP-API 150 ms, Commerce 50 ms per call; published quotas")
    print(table(results))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "mass_cancel.json").write_text(json.dumps({**results_meta, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
