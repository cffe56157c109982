"""Acceptance: what an operator watches and types, with the Procfile's web and worker processes.

One cancel goes to Complete; then ``/metrics`` counts what both processes did (checked against the stand-ins' own
counts), the web log is JSON line by line, and ``bridge jobs list --json`` run from another folder with nothing but
``DATABASE_URL`` lists the request as completed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from standins.commerce_webhook import CommerceWebhook
from standins.procfile import ProcfileProcess, WebProcess, run_release
from tests.pipeline_helpers import FAST_PIPELINE, eventually
from tests.seeds import amazon_order

PRESIGNED_TRANSFERS = {"uploadFeedDocument", "downloadFeedDocument"}  # to and from storage URLs, not SP-API calls
METRICS_TOKEN = "metrics-token-for-the-test"


def request_state(database_url: str, entity_id: int) -> str | None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            query = text("SELECT state FROM cancel_requests WHERE commerce_entity_id = :id")
            return connection.execute(query, {"id": entity_id}).scalar()
    finally:
        engine.dispose()


def samples(exposition: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of a scrape, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


def by_label(scraped: dict[tuple[str, frozenset], float], name: str, label: str) -> dict[str, float]:
    return {dict(labels)[label]: value for (sample, labels), value in scraped.items() if sample == name}


def test_one_cancel_to_complete_is_counted_logged_and_listed(
    bridge_env, private_key, commerce, amazon, tmp_path: Path
) -> None:
    env = {**bridge_env, **FAST_PIPELINE, "BRIDGE_METRICS_TOKEN": METRICS_TOKEN}
    run_release(env)
    web = WebProcess(env, tmp_path / "web.log")
    worker = ProcfileProcess("worker", env, tmp_path / "worker.log")
    try:
        web.wait_until_ready()
        commerce.cancel_hook = CommerceWebhook(
            f"{web.url}/webhooks/commerce/order-cancel",
            after_url=f"{web.url}/webhooks/commerce/order-cancel-after",
            private_key=private_key,
        )
        amazon_id = amazon_order(commerce, amazon, 7)
        assert commerce.cancel(7) == (True, None)
        assert eventually(lambda: request_state(env["DATABASE_URL"], 7) == "completed", 60)
        assert worker.stop() == 0  # its counts are final: what the stand-ins saw can be compared exactly

        assert requests.get(f"{web.url}/metrics", timeout=5).status_code == 401
        scrape = requests.get(f"{web.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=5)
        assert scrape.status_code == 200 and scrape.headers["Content-Type"].startswith("text/plain")
        scraped = samples(scrape.text)
    finally:
        web.stop()
        worker.stop()

    hooks = {
        (dict(labels)["hook"], dict(labels)["decision"], dict(labels)["op"]): value
        for (name, labels), value in scraped.items()
        if name == "bridge_webhook_requests_total"
    }
    assert hooks == {("before", "accept", "success"): 1, ("after", "read_back", "success"): 1}
    assert scraped[("bridge_webhook_duration_seconds_count", frozenset({("hook", "before")}))] == 1
    assert by_label(scraped, "bridge_spapi_calls_total", "operation") == {
        operation: float(count) for operation, count in amazon.calls.items() if operation not in PRESIGNED_TRANSFERS
    }  # every call of the web process (the check) and of the worker (feed, reads), none missed, none twice
    assert {"getOrder", "createFeed", "getFeed"} <= set(amazon.calls) and amazon.cancel_messages[amazon_id] == 1
    assert sum(by_label(scraped, "bridge_spapi_throttled_total", "operation").values()) == 0
    assert sum(by_label(scraped, "bridge_commerce_calls_total", "outcome").values()) == sum(commerce.calls.values())
    states = by_label(scraped, "bridge_cancel_requests", "state")
    assert states["completed"] == 1 and sum(states.values()) == 1
    assert scraped[("bridge_oldest_open_request_age_seconds", frozenset())] == 0
    assert scraped[("bridge_database_up", frozenset())] == 1
    mirrors = by_label(scraped, "bridge_mirror_age_seconds", "store")
    assert set(mirrors) == {"it", "us"}  # the stores with order import on
    assert all(0 <= age < 60 for age in mirrors.values())

    lines = [json.loads(line) for line in (tmp_path / "web.log").read_text(encoding="utf-8").splitlines()]
    assert any(line["logger"].startswith("gunicorn") for line in lines)  # gunicorn's own lines are JSON too
    access = [line for line in lines if line["logger"] == "bridge.access"]
    assert {(line["path"], line["status"]) for line in access} >= {
        ("/webhooks/commerce/order-cancel", 200),
        ("/webhooks/commerce/order-cancel-after", 200),
    }
    assert METRICS_TOKEN not in (tmp_path / "web.log").read_text(encoding="utf-8")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    only_the_database = {"DATABASE_URL": env["DATABASE_URL"], "PATH": os.environ["PATH"]}
    listed = subprocess.run(
        [sys.executable, "-m", "bridge.cli", "jobs", "list", "--json"],
        cwd=elsewhere, env=only_the_database, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    document = json.loads(listed.stdout)
    assert document["total"] == 1
    assert [(r["increment_id"], r["state"]) for r in document["requests"]] == [("000000007", "completed")]
    assert list(elsewhere.iterdir()) == []  # nothing written where it ran
