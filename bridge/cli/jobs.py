"""``bridge jobs`` and ``bridge feeds``: what operators see of cancel requests and feeds, and the retry they may ask.

They read and change only the bridge's own database: ``DATABASE_URL`` is all they need, from any directory.
"""

from __future__ import annotations

import argparse
import getpass
import re
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bridge.cli.output import CommandFailed, as_json, fields, table, utc
from bridge.domain.records import CancelRequest, FeedRecord, RequestSearch, as_utc
from bridge.domain.states import RETRYABLE_REQUEST_STATES, FeedState, RequestState
from bridge.errors import UsageError
from bridge.settings import load_store_codes

if TYPE_CHECKING:
    from bridge.composition import Storage

REQUEST_COLUMNS = ("id", "state", "commerce", "amazon order", "store", "source", "reason", "tries", "feed", "updated",
                   "answer")  # fmt: skip
FEED_COLUMNS = ("id", "state", "store", "marketplace", "messages", "amazon feed", "processing", "polls", "updated")
_RELATIVE = re.compile(r"(\d+)([mhd])")


def choice(value: str | None, allowed: type[RequestState] | type[FeedState], what: str) -> str | None:
    if value is None:
        return None
    known = {state.value for state in allowed}
    if value.lower() not in known:
        raise UsageError(f"--state {value!r} is not a {what} state; one of: {', '.join(sorted(known))}")
    return value.lower()


def store_code(storage: Storage, value: str | None) -> str | None:
    """A code of the stores file or of the bridge's records (a store that left the file keeps its history): an
    unknown one, a typo say, would list nothing and look like an answer."""
    if value is None:
        return None
    known = load_store_codes() | storage.request_queries.store_codes()
    if value not in known:
        listed = ", ".join(sorted(known)) or "none (no stores file could be read, and no record names a store)"
        raise UsageError(f"--store: unknown store {value!r}; known: {listed}")
    return value


def since(value: str | None, now: datetime) -> datetime | None:
    """``30m``, ``2h``, ``7d`` ago, or a UTC date or time (``2026-12-01``, ``2026-12-01T10:00``)."""
    if value is None:
        return None
    if match := _RELATIVE.fullmatch(value):
        unit = {"m": "minutes", "h": "hours", "d": "days"}[match[2]]
        return now - timedelta(**{unit: int(match[1])})
    try:
        moment = datetime.fromisoformat(value.removesuffix("Z"))
    except ValueError:
        raise UsageError(f"--since {value!r}: give 30m, 2h, 7d, or a UTC date or time like 2026-12-01T10:00") from None
    return as_utc(moment)  # a time given without an offset is UTC


def _request_row(request: CancelRequest, feed_ids: dict[int, str]) -> tuple[str, ...]:
    answer = request.amazon_result_description or request.last_error or ""
    if request.amazon_result_code:
        answer = f"{request.amazon_result_code}: {answer}"
    return (
        str(request.id),
        request.state,
        request.increment_id or str(request.commerce_entity_id),
        request.amazon_order_id,
        request.store_code,
        request.source,
        request.reason or "-",
        str(request.attempts),
        feed_ids.get(request.feed_id, "-") if request.feed_id else "-",
        utc(request.updated_at),
        answer[:80],
    )


def _request_json(request: CancelRequest) -> dict[str, object]:
    data = asdict(request)
    for name in ("next_attempt_at", "lease_expires_at"):
        data[name] = utc(data[name]) if data[name] else None
    return data


def _feed_ids(storage: Storage) -> dict[int, str]:
    return {feed.id: feed.amazon_feed_id or f"local {feed.id}" for feed in storage.feeds.all()}


def jobs_list(storage: Storage, args: argparse.Namespace) -> int:
    search = RequestSearch(
        state=choice(args.state, RequestState, "request"),
        store_code=store_code(storage, args.store),
        increment_id=args.order,
        amazon_order_id=args.amazon_order,
        since=since(args.since, datetime.now(UTC)),
    )
    requests, total = storage.request_queries.search(search, args.limit)
    if args.json:
        print(as_json({"total": total, "shown": len(requests), "requests": [_request_json(r) for r in requests]}))
        return 0
    feed_ids = _feed_ids(storage)
    print(table(REQUEST_COLUMNS, [_request_row(r, feed_ids) for r in requests]) if requests else "no cancel requests")
    print(_shown(len(requests), total))
    counts = storage.request_queries.counts_by_state()
    print(", ".join(f"{state}: {count}" for state, count in sorted(counts.items())) or "")
    return 0


def _readable(values: dict[str, object], times: tuple[str, ...]) -> list[tuple[str, object]]:
    """Every field for ``show``, its datetimes in UTC."""
    return [(name, utc(value) if name in times and value else value) for name, value in values.items()]


def _shown(shown: int, total: int) -> str:
    return f"\nshowing {shown} of {total}, newest first" + (" (raise --limit to see more)" if total > shown else "")


def jobs_show(storage: Storage, args: argparse.Namespace) -> int:
    request = _request(storage, args.request_id)
    if args.json:
        print(as_json(_request_json(request)))
        return 0
    feed_ids = _feed_ids(storage)
    values = _request_json(request)
    values["amazon_item_ids"] = ", ".join(request.amazon_item_ids) or "-"
    values["feed_id"] = feed_ids.get(request.feed_id, "-") if request.feed_id else None
    print(fields(_readable(values, ("created_at", "updated_at", "completed_at"))))
    return 0


# Why a rejected request is not retried, and what the operator does instead.
REJECTED_GUIDANCE = (
    "Amazon refused the cancel, or showed the order no longer Unshipped (shipped, canceled, ...), or the cancel rule "
    "stopped it, so the same cancel would fail again. Check the order in Amazon Seller Central and handle it there; "
    "once what stopped it is fixed (a hold released in Commerce, say), cancel the order again."
)


def _request(storage: Storage, request_id: int) -> CancelRequest:
    request = storage.cancel_requests.get(request_id)
    if request is None:
        raise CommandFailed("not_found", f"no cancel request {request_id}: 'bridge jobs list' shows their ids")
    return request


def jobs_retry(storage: Storage, args: argparse.Namespace) -> int:
    request = _request(storage, args.request_id)
    retried = storage.cancel_requests.retry(args.request_id, by=f"cli:{getpass.getuser()}")
    if retried is None and request.state == RequestState.REJECTED:
        raise CommandFailed("not_retryable", f"request {request.id} is rejected: {REJECTED_GUIDANCE}")
    if retried is None:
        allowed = ", ".join(sorted(RETRYABLE_REQUEST_STATES))
        raise CommandFailed(
            "not_retryable", f"request {request.id} is {request.state}; only {allowed} requests can be retried"
        )
    first = (
        "checks that Commerce canceled the order, re-checks Amazon"
        if retried.state == RequestState.AWAITING_COMMERCE
        else "re-checks Amazon"  # the bridge started this cancel: Commerce has nothing to confirm
    )
    print(f"request {retried.id} starts over with a fresh attempt budget: the worker {first}, then sends it in the "
          "next feed")  # fmt: skip
    return 0


def _feed_row(feed: FeedRecord) -> tuple[str, ...]:
    return (
        str(feed.id), feed.state, feed.store_code, feed.marketplace_id, str(feed.message_count),
        feed.amazon_feed_id or "-", feed.processing_status or "-", str(feed.poll_count), utc(feed.updated_at),
    )  # fmt: skip


def _feed_json(feed: FeedRecord) -> dict[str, object]:
    data = asdict(feed)
    for name in ("next_poll_at", "lease_expires_at", "uploaded_at"):
        data[name] = utc(data[name]) if data[name] else None
    return data


def feeds_list(storage: Storage, args: argparse.Namespace) -> int:
    feeds, total = storage.feeds.search(choice(args.state, FeedState, "feed"), args.limit)
    if args.json:
        print(as_json({"total": total, "shown": len(feeds), "feeds": [_feed_json(f) for f in feeds]}))
        return 0
    print(table(FEED_COLUMNS, [_feed_row(f) for f in feeds]) if feeds else "no feeds")
    print(_shown(len(feeds), total))
    return 0


def feeds_show(storage: Storage, args: argparse.Namespace) -> int:
    feed = storage.feeds.get(args.feed_id)
    if feed is None:
        raise CommandFailed("not_found", f"no feed {args.feed_id}: 'bridge feeds list' shows their ids")
    requests = storage.feeds.requests_in(feed.id)
    if args.json:
        print(as_json({**_feed_json(feed), "requests": [r.id for r in requests]}))
        return 0
    print(fields(_readable(_feed_json(feed), ("created_at", "updated_at"))))
    print("\n" + (table(REQUEST_COLUMNS, [_request_row(r, {}) for r in requests]) if requests else "no requests"))
    return 0
