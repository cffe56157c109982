"""A mass cancel through the API while an operator keeps the console open: how fast each answers.

The bridge runs as deployed (Procfile release, gunicorn web, one worker) against the stand-ins, which answer SP-API
calls in 150 ms and Commerce calls in 50 ms. Once the worker has filled both mirrors, a tool cancels N orders
through ``POST /api/v1/cancellations`` (one after another, each with its ``Idempotency-Key``, waiting out a 429's
``Retry-After`` as an automation should: the API lets one token cancel 2 a second, 30 at once) while a signed-in
operator reloads the console's pages (stores, the store's recent orders, an order's details, needs attention)
in a loop; the worker sends the cancels to Amazon meanwhile. Reported: each call's latency, the calls the API made
to Amazon and Commerce itself, 429s, and the time until every Commerce order reads Complete.

    python -m bench.console_api [--postgres URL | --sqlite] [--orders 200]

Prints one table and writes bench/results/console_api.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

import requests

from bench.figures import database, percentile
from bench.warm_mirrors import (
    DEFAULT_POSTGRES,
    RESULTS,
    STORE,
    amazon_id_of,
    mirrors_warm,
    seed_amazon,
    seed_commerce,
    wait_for,
)
from standins.databases import postgres_reachable
from standins.faults import Latency
from standins.procfile import run_bridge_command
from standins.world import LocalWorld

PASSWORD = "a bench operator password"
PAGES = ("stores", "store", "order", "attention")


def signed_in(url: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{url}/console/sign-in", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form = {"csrf_token": token, "name": "operator", "password": PASSWORD, "next": ""}
    session.post(f"{url}/console/sign-in", data=form, timeout=10).raise_for_status()
    return session


def read_console(url: str, order_id: str, stop: threading.Event, latencies: dict[str, list[float]]) -> None:
    """An operator reloading the console's pages one after another until the mass cancel is over."""
    session = signed_in(url)
    paths = {
        "stores": "/console/stores",
        "store": f"/console/stores/{STORE.code}",
        "order": f"/console/orders/{order_id}",
        "attention": "/console/attention",
    }
    while not stop.is_set():
        for page, path in paths.items():
            started = time.perf_counter()
            session.get(url + path, timeout=30).raise_for_status()
            latencies[page].append((time.perf_counter() - started) * 1000)


def run(orders: int, postgres: str | None) -> dict[str, Any]:
    workdir = Path("instance/bench-console").resolve()
    shutil.rmtree(workdir, ignore_errors=True)
    world = LocalWorld(workdir).start()
    try:
        with database(postgres, workdir) as database_url:
            env = world.bridge_env(
                DATABASE_URL=database_url, BRIDGE_WORKER_IDLE_SECONDS="0.5",
                BRIDGE_COMMERCE_LINKS_REFRESH_SECONDS="5",
            )  # fmt: skip
            ids = range(1, orders + 1)
            seed_amazon(world, ids)
            seed_commerce(world, ids)
            web = world.start_bridge(env, workdir / "web.log")
            world.start_worker(env, workdir / "worker.log")
            wait_for(lambda: mirrors_warm(database_url), 120, "mirrors did not warm up")
            run_bridge_command(env, "users", "create", "operator", "--role", "operator", stdin=PASSWORD + "\n")
            token = run_bridge_command(env, "api-tokens", "create", "bench-tool").strip().splitlines()[-1]
            world.amazon.latency = Latency(0.15)
            world.commerce.latency = Latency(0.05)

            pages: dict[str, list[float]] = {page: [] for page in PAGES}
            stop = threading.Event()
            reader = threading.Thread(target=read_console, args=(web.url, amazon_id_of(1), stop, pages))
            reader.start()
            calls_before = world.amazon.calls["getOrder"], sum(world.commerce.calls.values())
            throttled_before = sum(world.amazon.throttled.values())
            api: list[float] = []
            statuses: dict[int, int] = {}
            headers = {"Authorization": f"Bearer {token}"}
            started = time.perf_counter()
            with requests.Session() as tool:
                for entity_id in ids:
                    body = {"increment_id": f"{entity_id:09d}", "reason": "NoInventory"}
                    while True:  # as an automation should: past the token's ceiling, again after Retry-After
                        call_started = time.perf_counter()
                        answer = tool.post(
                            f"{web.url}/api/v1/cancellations", json=body, timeout=30,
                            headers={**headers, "Idempotency-Key": f"bench-{entity_id}"},
                        )  # fmt: skip
                        statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
                        if answer.status_code != 429:
                            api.append((time.perf_counter() - call_started) * 1000)
                            break
                        time.sleep(float(answer.headers.get("Retry-After", "1")))
            api_wait = time.perf_counter() - started
            complete = wait_for(
                lambda: all(world.commerce.orders[i]["state"] == "complete" for i in ids), 600, "not all Complete"
            )
            stop.set()
            reader.join()
            figures: dict[str, Any] = {
                "orders": orders,
                "api_answers": json.dumps(statuses),
                "api_total_s": round(api_wait, 2),
                "api_median_ms": round(statistics.median(api), 1),
                "api_p99_ms": round(percentile(api, 0.99), 1),
                "getOrder_calls_during_api": world.amazon.calls["getOrder"] - calls_before[0],
                "all_complete_after_s": round(api_wait + complete, 1),
                "spapi_429s": sum(world.amazon.throttled.values()) - throttled_before,
            }
            for page in PAGES:
                figures[f"console_{page}_median_ms"] = round(statistics.median(pages[page]), 1)
                figures[f"console_{page}_p99_ms"] = round(percentile(pages[page], 0.99), 1)
            figures["console_page_loads"] = sum(len(values) for values in pages.values())
            return figures
    finally:
        world.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--sqlite", action="store_true", help="use SQLite even if PostgreSQL is reachable")
    parser.add_argument("--orders", type=int, default=200)
    args = parser.parse_args()
    postgres = None if args.sqlite or not postgres_reachable(args.postgres) else args.postgres
    figures = run(args.orders, postgres)
    width = max(len(key) for key in figures)
    print(f"database: {'postgresql' if postgres else 'sqlite'}; SP-API 150 ms, Commerce 50 ms per call")
    for key, value in figures.items():
        print(f"{key:<{width}}  {value:>12}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "console_api.json").write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
