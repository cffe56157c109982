"""``bridge jobs``: operators list, inspect and deliberately retry cancel requests."""

from __future__ import annotations

import os
import subprocess
import sys

from bridge.pipeline.worker import worker_context
from tests.pipeline_helpers import FAST_PIPELINE, drive
from tests.seeds import amazon_order


def jobs(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridge.cli", "jobs", *args],
        env={"PATH": os.environ["PATH"], **env},  # nothing else from this environment
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_list_show_and_retry_a_rejected_request(start_bridge, bridge_env, commerce, amazon):
    bridge = start_bridge(**FAST_PIPELINE)
    ctx = worker_context(bridge.parts, owner="test-worker")
    amazon_id = amazon_order(commerce, amazon, 7)
    assert commerce.cancel(7) == (True, None)
    amazon.set_status(amazon_id, "PENDING")  # Amazon put it back on hold after the webhook looked
    drive(ctx, lambda: [r.state for r in bridge.cancel_requests()] == ["rejected"])

    database_only = {"DATABASE_URL": bridge_env["DATABASE_URL"]}  # reading the bridge's records needs no secrets
    listing = jobs(database_only, "list")
    assert listing.returncode == 0, listing.stderr
    assert "rejected" in listing.stdout and amazon_id in listing.stdout and "StatusChanged: PENDING" in listing.stdout
    shown = jobs(database_only, "show", "1")
    assert "amazon_result_code" in shown.stdout and "StatusChanged" in shown.stdout

    assert jobs(database_only, "retry", "99").returncode == 1
    amazon.set_status(amazon_id, "UNSHIPPED")  # the operator sorted it out with Amazon
    retried = jobs(database_only, "retry", "1")
    assert retried.returncode == 0 and "starts over" in retried.stdout
    drive(ctx, lambda: [r.state for r in bridge.cancel_requests()] == ["completed"])
    assert amazon.orders[amazon_id].status == "CANCELLED"
    again = jobs(database_only, "retry", "1")
    assert (
        again.returncode == 1 and "only failed, not_canceled_in_commerce, rejected, rejecting requests" in again.stdout
    )
