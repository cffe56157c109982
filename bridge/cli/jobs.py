"""``bridge jobs list|show|retry``: what operators see of the cancel requests, and the one thing they may do."""

from __future__ import annotations

import argparse

from bridge.composition import build_storage
from bridge.domain.states import RESTARTABLE_REQUEST_STATES
from bridge.settings import load_database_url
from bridge.storage.cancel_requests import CancelRequest

COLUMNS = ("id", "state", "commerce", "amazon order", "store", "reason", "tries", "feed", "updated", "answer")


def _row(request: CancelRequest, feed_ids: dict[int, str]) -> tuple[str, ...]:
    answer = request.amazon_result_description or request.last_error or ""
    if request.amazon_result_code:
        answer = f"{request.amazon_result_code}: {answer}"
    return (
        str(request.id),
        request.state,
        request.increment_id or str(request.commerce_entity_id),
        request.amazon_order_id,
        request.store_code,
        request.reason,
        str(request.attempts),
        feed_ids.get(request.feed_id or -1, "-") if request.feed_id else "-",
        request.updated_at.strftime("%Y-%m-%d %H:%M:%S"),
        answer[:80],
    )


def format_table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(COLUMNS[i]), *(len(r[i]) for r in rows)) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(lines)


def run_jobs_command(args: argparse.Namespace) -> int:
    storage = build_storage(load_database_url())
    requests, feeds = storage.requests, storage.feeds
    feed_ids = {f.id: f.amazon_feed_id or f"local {f.id}" for f in feeds.all()}
    if args.jobs_command == "list":
        listed = requests.all(state=args.state, limit=args.limit)
        print(format_table([_row(r, feed_ids) for r in listed]) if listed else "no cancel requests")
        counts = requests.counts_by_state()
        print("\n" + ", ".join(f"{state}: {count}" for state, count in sorted(counts.items())))
        return 0
    request = requests.get(args.request_id)
    if request is None:
        print(f"no cancel request {args.request_id}")
        return 1
    if args.jobs_command == "show":
        for name, value in request.__dict__.items():
            shown = feed_ids.get(value, value) if name == "feed_id" and value else value
            print(f"{name:<26}{shown}")
        return 0
    retried = requests.retry(args.request_id)
    if retried is None:
        allowed = ", ".join(sorted(RESTARTABLE_REQUEST_STATES))
        print(f"request {request.id} is {request.state}; only {allowed} requests can be retried")
        return 1
    print(
        f"request {retried.id} starts over: the worker checks that Commerce canceled the order, re-checks Amazon, "
        "then sends it in the next feed"
    )
    return 0
