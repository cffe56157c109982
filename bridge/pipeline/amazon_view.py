"""Amazon's view of a batch of requests' orders, for the steps that decide (check) and confirm.

The order mirror (``bridge.storage.order_mirror``) is kept current with searchOrders, inside its scarce quota: a
store is backfilled once (open seller-fulfilled orders created in the last days), then refreshed from its cursor
by ``lastUpdatedAfter``. The refresh-mirrors step does that on a schedule for the webhook's sake; the check and
confirm steps ask here on demand, one refresh per batch instead of one getOrder per order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from bridge.clients.spapi_operations import SEARCH_ORDERS
from bridge.deadline import Deadline
from bridge.domain.amazon_order import AmazonOrder
from bridge.domain.records import CancelRequest
from bridge.domain.stores import Store
from bridge.errors import UpstreamError
from bridge.pipeline.worker_context import STEP_SECONDS, WorkerContext

log = logging.getLogger(__name__)
OPEN_STATUSES = ("PENDING", "UNSHIPPED", "PARTIALLY_SHIPPED")
MIN_WAIT_SECONDS = 1.0
LIVE_READS_PER_ROUND = 10  # at getOrder's pace, so a round stays well inside its lease


def refresh_store(ctx: WorkerContext, store: Store) -> bool:
    """One backfill or incremental refresh of the store's mirror; False when Amazon could not be asked now."""
    if ctx.limiter.available(store.seller_id, SEARCH_ORDERS.name) < 1:
        return False
    cursor = ctx.mirror.cursor(store.code)
    started = ctx.clock()
    try:
        if cursor is None or cursor.backfilled_at is None or cursor.updated_after is None:
            since = datetime.fromtimestamp(started, UTC) - timedelta(days=ctx.pipeline.mirror_backfill_days)
            search = ctx.orders_api.search_orders(
                store, Deadline(STEP_SECONDS), created_after=since, statuses=OPEN_STATUSES
            )
            ctx.mirror.replace_store(store.code, search.orders, seen_at=started)
            until = min(search.complete_until.timestamp(), started) if search.complete_until else started
            ctx.mirror.advance(store.code, updated_after=until, complete_as_of=until, backfilled_at=started)
            ctx.mirror.lag[store.code] = started - until
        else:
            since = datetime.fromtimestamp(cursor.updated_after, UTC)
            search = ctx.orders_api.search_orders(store, Deadline(STEP_SECONDS), updated_after=since)
            ctx.mirror.record(store.code, search.orders, seen_at=started)
            # Amazon answers with the time up to which its answer is complete (a little before now).
            until = min(search.complete_until.timestamp(), started) if search.complete_until else started
            ctx.mirror.advance(store.code, updated_after=until, complete_as_of=until)
            ctx.mirror.lag[store.code] = started - until
    except UpstreamError as exc:
        log.warning("order mirror refresh failed", extra={"store": store.code, "error": str(exc)})
        return False
    log.info(
        "order mirror refreshed",
        extra={"store": store.code, "orders": len(search.orders), "pages": search.pages,
               "backfill": cursor is None or cursor.backfilled_at is None},
    )  # fmt: skip
    return True


def mirror_is_stale(ctx: WorkerContext, store: Store) -> bool:
    """Too old to be worth waiting for (e.g. searchOrders cannot keep up): read orders one by one instead."""
    cursor = ctx.mirror.cursor(store.code)
    complete_as_of = cursor.complete_as_of if cursor and cursor.complete_as_of is not None else 0.0
    return complete_as_of < ctx.clock() - ctx.pipeline.mirror_max_age_seconds


def ensure_complete_as_of(ctx: WorkerContext, store: Store, moment: float) -> float | None:
    """Make sure the mirror holds every change of this store up to ``moment``, refreshing once if needed.

    Returns None when it does, else when to try again: Amazon's answers are complete only up to a little before
    now (about two minutes), and searchOrders may have no call to spare.
    """
    cursor = ctx.mirror.cursor(store.code)
    if cursor is not None and cursor.complete_as_of is not None and cursor.complete_as_of >= moment:
        return None
    lag = ctx.mirror.lag.get(store.code, 0.0)
    if moment > ctx.clock() - lag:  # a search now could not cover it yet: do not spend a scarce call on it
        return moment + lag + MIN_WAIT_SECONDS
    if not refresh_store(ctx, store):
        return ctx.clock() + ctx.pipeline.feed_poll_initial_seconds
    cursor = ctx.mirror.cursor(store.code)
    complete_as_of = cursor.complete_as_of if cursor and cursor.complete_as_of is not None else 0.0
    if complete_as_of >= moment:
        return None
    return ctx.clock() + max(MIN_WAIT_SECONDS, moment - complete_as_of)


def orders_for(
    ctx: WorkerContext,
    store: Store,
    requests: list[CancelRequest],
    read_one: Callable[[CancelRequest], AmazonOrder | None],
    read_live_up_to: int,
) -> Iterator[tuple[CancelRequest, AmazonOrder]]:
    """Amazon's view of each request's order, for a batch of one store.

    From the mirror once it holds every change since the requests last moved; while it does not yet, batches
    larger than ``read_live_up_to`` wait for it (released until then) unless it is stale, and the rest are read
    one by one with ``read_one``, at most LIVE_READS_PER_ROUND a round. Requests not answered are released.
    """
    mirrored: dict[str, AmazonOrder] = {}
    if ctx.amazon_status.mirror_enabled:
        retry_at = ensure_complete_as_of(ctx, store, max(r.updated_at.timestamp() for r in requests))
        if retry_at is None:
            mirrored = ctx.mirror.get_many((r.amazon_order_id for r in requests), store.marketplace_id)
        elif len(requests) > read_live_up_to and not mirror_is_stale(ctx, store):
            for request in requests:
                ctx.cancel_requests.release(request, ctx.owner, retry_at, request.last_error or "")
            return
    live_reads = 0
    for request in requests:
        order = mirrored.get(request.amazon_order_id)
        if ctx.stop.is_set() or (order is None and live_reads >= LIVE_READS_PER_ROUND):
            ctx.cancel_requests.release(request, ctx.owner, retry_at=0.0, error=request.last_error or "")
            continue
        if order is None:
            live_reads += 1
            order = read_one(request)
            if order is None:
                continue
        yield request, order
