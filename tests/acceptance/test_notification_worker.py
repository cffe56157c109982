"""The Procfile's ``worker`` with ``BRIDGE_SQS_QUEUE_URL``: it waits on the queue (no other process), acts on what
Amazon sends, and SIGTERM still stops it cleanly in the middle of a long poll."""

from __future__ import annotations

import argparse
import json
import uuid
from pathlib import Path

import boto3

from bridge.cli.notifications import notifications_subscribe
from bridge.composition import build_clients
from bridge.settings import load_settings
from bridge.storage.engine import make_engine, upgrade
from standins.procfile import ProcfileProcess
from tests.pipeline_helpers import FAST_PIPELINE, eventually
from tests.seeds import amazon_order


def test_the_deployed_worker_follows_the_queue_and_stops_on_sigterm_mid_poll(
    bridge_env, sqs_env, commerce, amazon, tmp_path: Path
):
    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=sqs_env["AWS_ENDPOINT_URL_SQS"])
    queue = sqs.create_queue(QueueName=f"bridge-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    env = {
        **bridge_env, **FAST_PIPELINE, **sqs_env, "BRIDGE_SQS_QUEUE_URL": queue,
        "BRIDGE_MIRROR_REFRESH_SECONDS": "86400",  # only the queue can bring the cancel below within the test
        "BRIDGE_WORKER_IDLE_SECONDS": "20",  # SQS's longest long poll
    }  # fmt: skip
    upgrade(make_engine(env["DATABASE_URL"]))
    amazon_id = amazon_order(commerce, amazon, 80)
    worker = ProcfileProcess("worker", env, tmp_path / "worker.log")
    try:
        assert eventually(lambda: amazon.calls["searchOrders"] >= 2)  # both stores' mirrors backfilled
        settings = load_settings(env)
        api = build_clients(settings, make_engine(settings.database_url)).notifications_api
        assert notifications_subscribe(settings, api, argparse.Namespace(store=None, json=True)) == 0
        amazon.cancel_outside(amazon_id, "MERCHANT", "Out of stock")
        assert eventually(lambda: commerce.orders[80]["state"] == "complete", timeout=60)
    finally:
        code = worker.stop(timeout=60)
    assert code == 0  # stopped by SIGTERM, not killed, while waiting on the queue
    lines = [json.loads(line) for line in worker.log_file.read_text().splitlines() if line.startswith("{")]
    messages = [line["msg"] for line in lines]
    assert "notification queue answering: following Amazon's notifications" in messages
    assert messages[-1] == "worker stopped"
