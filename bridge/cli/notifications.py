"""``bridge notifications subscribe|status``: Amazon's notifications to the bridge's SQS queue.

``subscribe`` makes the queue (``BRIDGE_SQS_QUEUE_URL``) a destination of the application (grantless, one per region
of the stores) and subscribes each store with order import on to ``ORDER_CHANGE`` and ``FEED_PROCESSING_FINISHED``
there. Run again it changes nothing: Amazon answers 409 for what exists, and the existing one is looked up and
reported. ``status`` shows what Amazon has: the destinations, and each store's subscriptions.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from typing import Any

from bridge.cli.output import CommandFailed, as_json, table
from bridge.clients.notification_messages import NOTIFICATION_TYPES
from bridge.clients.notifications_api import Destination, NotificationsApi, Subscription
from bridge.clients.sqs_queue import QueueUnreachable, SqsQueue
from bridge.deadline import Deadline
from bridge.domain.stores import Store
from bridge.errors import NotFound, UpstreamError, UpstreamRejected, UsageError
from bridge.settings import Settings

CALL_SECONDS = 15.0
COLUMNS = ("store", "region", "what", "id", "outcome")


def _deadline() -> Deadline:
    return Deadline(CALL_SECONDS)


def _stores(settings: Settings, code: str | None) -> list[Store]:
    """The stores with order import on (only ``code``'s with --store): the ones whose orders the bridge follows."""
    if code is not None and settings.stores.by_code(code) is None:
        known = ", ".join(sorted(store.code for store in settings.stores)) or "none"
        raise UsageError(f"--store: unknown store {code!r}; known: {known}")
    chosen = [store for store in settings.stores if store.order_import and code in (None, store.code)]
    if not chosen:
        raise UsageError("no store with order_import = true to subscribe" + (f" ({code})" if code else ""))
    return chosen


def _by_region(stores: Iterable[Store]) -> dict[str, list[Store]]:
    regions: dict[str, list[Store]] = {}
    for store in stores:
        regions.setdefault(store.region, []).append(store)
    return regions


def _queue_arn(settings: Settings) -> str:
    if not settings.sqs_queue_url:
        raise UsageError("BRIDGE_SQS_QUEUE_URL is not set: create the queue first (README, Amazon's notifications)")
    try:
        return SqsQueue(settings.sqs_queue_url).arn()
    except QueueUnreachable as exc:
        raise CommandFailed("queue", f"cannot read the queue's ARN: {exc}; check BRIDGE_SQS_QUEUE_URL and the "
                                     "worker's AWS credentials (sqs:GetQueueAttributes)") from None  # fmt: skip


def _exists(exc: UpstreamError) -> bool:
    return isinstance(exc, UpstreamRejected) and exc.status == 409


def _destination(api: NotificationsApi, region_store: Store, arn: str) -> tuple[Destination, str]:
    """The queue's destination, created unless Amazon has it (409, or listed already)."""
    name = "bridge-" + arn.rsplit(":", 1)[-1]
    try:
        return api.create_destination(region_store, name, arn, _deadline()), "created"
    except UpstreamError as exc:
        if not _exists(exc):
            raise
    found = [d for d in api.get_destinations(region_store, _deadline()) if d.sqs_arn == arn]
    if not found:
        raise CommandFailed("amazon", f"Amazon says a destination exists for {arn} but does not list it; try again")
    return found[0], "exists"


def _subscription(
    api: NotificationsApi, store: Store, notification_type: str, destination: Destination
) -> tuple[Subscription, str]:
    try:
        return api.create_subscription(store, notification_type, destination.destination_id, _deadline()), "created"
    except UpstreamError as exc:
        if not _exists(exc):
            raise
    existing = api.get_subscription(store, notification_type, _deadline())
    if existing.destination_id != destination.destination_id:
        return existing, f"differs: delivered to destination {existing.destination_id}, not this queue's"
    return existing, "exists"


def _row(store: str, region: str, what: str, id_: str, outcome: str) -> dict[str, str]:
    return {"store": store, "region": region, "what": what, "id": id_, "outcome": outcome}


def notifications_subscribe(settings: Settings, api: NotificationsApi, args: argparse.Namespace) -> int:
    stores = _stores(settings, args.store)
    arn = _queue_arn(settings)
    rows: list[dict[str, str]] = []
    try:
        for region, region_stores in _by_region(stores).items():
            destination, outcome = _destination(api, region_stores[0], arn)
            rows.append(_row("-", region, "destination", destination.destination_id, outcome))
            for store in region_stores:
                for notification_type in NOTIFICATION_TYPES:
                    subscription, outcome = _subscription(api, store, notification_type, destination)
                    rows.append(_row(store.code, region, notification_type, subscription.subscription_id, outcome))
    except UpstreamError as exc:
        raise CommandFailed("amazon", f"Amazon refused or did not answer: {exc}") from None
    _print(rows, args.json, {"queue_arn": arn})
    return 1 if any(row["outcome"].startswith("differs") for row in rows) else 0


def notifications_status(settings: Settings, api: NotificationsApi, args: argparse.Namespace) -> int:
    """What Amazon has; exit 1 when a store is not subscribed to this queue's destination for both types."""
    stores = _stores(settings, args.store)
    arn = _queue_arn(settings) if settings.sqs_queue_url else None
    rows: list[dict[str, str]] = []
    try:
        for region, region_stores in _by_region(stores).items():
            destinations = api.get_destinations(region_stores[0], _deadline())
            ours = {d.destination_id for d in destinations if arn is not None and d.sqs_arn == arn}
            for d in destinations:
                shown = "this queue" if d.destination_id in ours else (d.sqs_arn or "EventBridge")
                rows.append(_row("-", region, "destination", d.destination_id, shown))
            if not ours:
                rows.append(_row("-", region, "destination", "-", "missing: run 'bridge notifications subscribe'"))
            for store in region_stores:
                for notification_type in NOTIFICATION_TYPES:
                    try:
                        found = api.get_subscription(store, notification_type, _deadline())
                    except NotFound:
                        rows.append(_row(store.code, region, notification_type, "-", "missing: not subscribed"))
                        continue
                    shown = "this queue" if found.destination_id in ours else f"destination {found.destination_id}"
                    rows.append(_row(store.code, region, notification_type, found.subscription_id, shown))
    except UpstreamError as exc:
        raise CommandFailed("amazon", f"Amazon refused or did not answer: {exc}") from None
    complete = all(row["outcome"] == "this queue" for row in rows if row["what"] in NOTIFICATION_TYPES) and not any(
        row["outcome"].startswith("missing") for row in rows
    )
    _print(rows, args.json, {"queue_arn": arn, "complete": complete})
    return 0 if complete else 1


def _print(rows: list[dict[str, str]], json_output: bool, extra: dict[str, Any]) -> None:
    if json_output:
        print(as_json({**extra, "rows": rows}))
    else:
        print(table(COLUMNS, [tuple(str(row[column]) for column in COLUMNS) for row in rows]))
