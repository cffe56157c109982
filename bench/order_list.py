"""The console's order list over a large store: how long counting, filtering and paging take in the database.

One store of N orders (50,000 by default) of every Amazon status, a third fulfilled by Amazon, each with its
Commerce order, and a cancel request on every 20th, plus as many orders of another store. For each question the
store page asks (every order; one Amazon status; where the cancel stands; a search by part of an Amazon order id
and by part of a Commerce number), the count and one page of 50 are read, first page and a deep one, 20 times each.

    python -m bench.order_list [--postgres URL | --sqlite] [--orders 50000]

Prints one table (median and p95 per question, milliseconds) and writes bench/results/order_list_<database>.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from bench.figures import database, percentile
from bridge.storage.engine import make_engine, upgrade
from bridge.storage.order_list import CancelStanding, OrderFilter, OrderList
from bridge.storage.tables import cancel_requests, order_links, order_mirror
from standins.amazon.orders import FULFILLMENT_STATUSES

RESULTS = Path("bench/results")
STATUSES = sorted(FULFILLMENT_STATUSES)  # Amazon's seven, in a fixed order
PAGE = 50
RUNS = 20


def seed(url: str, orders: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    start = 1_790_000_000.0
    now = datetime.now(UTC)
    with engine.begin() as connection:
        for store, offset in (("us", 0), ("other", orders)):
            for chunk in range(0, orders, 5000):
                numbers = range(offset + chunk, offset + min(orders, chunk + 5000))
                connection.execute(insert(order_mirror), [
                    {"amazon_order_id": f"113-{n:07d}-{n * 7 % 10**7:07d}", "store_code": store,
                     "marketplace_id": "ATVPDKIKX0DER", "status": STATUSES[n % len(STATUSES)],
                     "fulfilled_by": "AMAZON" if n % 3 == 0 else "MERCHANT", "item_ids": "[]",
                     "buyer_requested_cancel": False, "last_updated": start + n * 60, "seen_at": start,
                     "created_time": start + n * 60, "lines": "[]"} for n in numbers
                ])  # fmt: skip
                connection.execute(insert(order_links), [
                    {"commerce_entity_id": n + 1, "increment_id": f"{n + 100000000:09d}", "commerce_store_id": 2,
                     "amazon_order_id": f"113-{n:07d}-{n * 7 % 10**7:07d}", "commerce_state": "processing",
                     "created_at": now} for n in numbers
                ])  # fmt: skip
                connection.execute(insert(cancel_requests), [
                    {"commerce_entity_id": n + 1, "increment_id": f"{n + 100000000:09d}", "store_code": store,
                     "seller_id": "A2SELLERUS", "marketplace_id": "ATVPDKIKX0DER",
                     "amazon_order_id": f"113-{n:07d}-{n * 7 % 10**7:07d}", "reason": "NoInventory",
                     "decision": "accept", "state": ("completed", "ready", "failed")[n % 3], "created_at": now,
                     "updated_at": now} for n in numbers if n % 20 == 0
                ])  # fmt: skip
    engine.dispose()


def measure(url: str) -> dict[str, dict[str, float]]:
    engine = make_engine(url)
    listing = OrderList(engine)
    questions = {
        "every order": OrderFilter("us"),
        "status SHIPPED": OrderFilter("us", status="SHIPPED"),
        "cancel under way": OrderFilter("us", standing=CancelStanding.UNDER_WAY),
        "no cancel": OrderFilter("us", standing=CancelStanding.NONE),
        "search Amazon id part": OrderFilter("us", search="0012345"),
        "search Commerce part": OrderFilter("us", search="100012"),
    }
    figures: dict[str, dict[str, float]] = {}
    for name, found in questions.items():
        timings: list[float] = []
        deep: list[float] = []
        for _ in range(RUNS):
            began = time.perf_counter()
            total = listing.count(found)
            listing.orders(found, 0, PAGE)
            timings.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            listing.orders(found, max(0, total - PAGE), PAGE)  # the last page
            deep.append((time.perf_counter() - began) * 1000)
        figures[name] = {
            "matches": total, "first_page_ms_median": statistics.median(timings),
            "first_page_ms_p95": percentile(timings, 0.95), "last_page_ms_median": statistics.median(deep),
        }  # fmt: skip
    engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="a PostgreSQL URL (a throwaway schema is used); SQLite otherwise")
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--orders", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir, database(args.postgres, Path(workdir)) as url:
        seed(url, args.orders)
        figures = measure(url)
    engine_name = "postgresql" if args.postgres else "sqlite"
    print(f"order list, {args.orders} orders in the store (+{args.orders} in another), {engine_name}")
    print(f"{'question':24} {'matches':>8} {'count+page 1 median':>20} {'p95':>8} {'last page median':>17}")
    for name, row in figures.items():
        print(
            f"{name:24} {row['matches']:>8} {row['first_page_ms_median']:>17.1f} ms {row['first_page_ms_p95']:>5.1f} ms"
            f" {row['last_page_ms_median']:>14.1f} ms"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"order_list_{engine_name}.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
