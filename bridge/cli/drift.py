"""``bridge drift``: every order on which Commerce and Amazon disagree and nobody is working, in one place.

Read from the bridge's own mirrors (so it needs only ``DATABASE_URL``): as fresh as the worker keeps them. The exit
status is 1 when it lists any, so that a scheduled run can alert on it.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter

from bridge.cli.jobs import store_code
from bridge.composition import Storage
from bridge.domain.reconciliation import Drift, DriftKind, drifts_among

COLUMNS = ("kind", "commerce order", "commerce state", "amazon order", "amazon status", "store", "request")
WHAT_TO_DO = {
    DriftKind.CANCELED_IN_COMMERCE_ONLY: "canceled (or Complete) in Commerce, not at Amazon: check the order in Seller "
    "Central; it may ship",
    DriftKind.CANCELED_AT_AMAZON_ONLY: "canceled at Amazon, still open in Commerce: close it in Commerce",
}


def as_json(drifts: list[Drift]) -> str:
    counts = Counter(drift.kind.value for drift in drifts)
    return json.dumps(
        {
            "counts": {kind.value: counts.get(kind.value, 0) for kind in DriftKind},
            "orders": [
                {
                    "kind": drift.kind.value,
                    "commerce_entity_id": drift.pair.commerce_entity_id,
                    "increment_id": drift.pair.increment_id,
                    "commerce_state": drift.pair.commerce_state,
                    "amazon_order_id": drift.pair.amazon_order_id,
                    "amazon_status": drift.pair.amazon_status,
                    "store": drift.pair.store_code,
                    "request_id": drift.pair.request_id,
                    "request_state": drift.pair.request_state,
                }
                for drift in drifts
            ],
        },
        indent=2,
    )


def as_table(drifts: list[Drift]) -> str:
    rows = [
        (
            drift.kind.value,
            drift.pair.increment_id or str(drift.pair.commerce_entity_id),
            drift.pair.commerce_state or "?",
            drift.pair.amazon_order_id,
            drift.pair.amazon_status,
            drift.pair.store_code,
            f"#{drift.pair.request_id} {drift.pair.request_state}" if drift.pair.request_id else "-",
        )
        for drift in drifts
    ]
    lines = []
    if rows:
        widths = [max(len(COLUMNS[i]), *(len(row[i]) for row in rows)) for i in range(len(COLUMNS))]
        lines.append("  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)).rstrip())
        lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in rows]
        lines.append("")
    counts = Counter(drift.kind for drift in drifts)
    for kind in DriftKind:
        lines.append(f"{kind.value}: {counts.get(kind, 0)}  ({WHAT_TO_DO[kind]})")
    return "\n".join(lines)


def run_drift_command(storage: Storage, args: argparse.Namespace) -> int:
    store = store_code(storage, args.store)
    drifts = [drift for drift in drifts_among(storage.pairs.maybe_drifting()) if store in (None, drift.pair.store_code)]
    print(as_json(drifts) if args.json else as_table(drifts))
    return 1 if drifts else 0
