"""Amazon's view of a batch of requests' orders, for the steps that decide (check) and confirm.

The order mirror (``bridge.storage.order_mirror``) holds every order of each store, whatever its status and whoever
fulfills it, kept current with searchOrders inside its scarce quota: refreshed from its cursor by
``lastUpdatedAfter``, and backfilled, newest first, with the orders created in the last days, a window at a time with
the calls the refreshes leave over. The refresh-mirrors step does both on a schedule for the webhook's and the
console's sake; the check and confirm steps ask here on demand, one refresh per batch instead of one getOrder per
order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from bridge.clients.spapi import SERVICE
from bridge.clients.spapi_operations import GET_ORDER, SEARCH_ORDERS
from bridge.deadline import Deadline
from bridge.domain.amazon_order import AmazonOrder
from bridge.domain.records import CancelRequest
from bridge.domain.spapi_quotas import PUBLISHED_QUOTAS
from bridge.domain.stores import Store
from bridge.errors import UpstreamError, UpstreamUnavailable
from bridge.pipeline.worker_context import STEP_SECONDS, WorkerContext

log = logging.getLogger(__name__)
MIN_WAIT_SECONDS = 1.0
LIVE_READS_PER_ROUND = 10  # at getOrder's pace, so a round stays well inside its lease
# Amazon answers searches only up to two minutes before the call: a new store's refreshes start this far back, and
# the backfill reads what was created before (an overlap, never a gap: recording an order twice changes nothing).
SETTLE_SECONDS = 300.0
BACKFILL_PAGES = 10  # at most this many pages a backfill window ...
# ... and never the last searchOrders calls in the bucket (of 20): the refreshes keep ten pages, a thousand changed
# orders, for a mass cancel's confirmations. Past the first minutes the backfill lives on what the refreshes leave.
BACKFILL_SPARES = 10
FIRST_WINDOW_SECONDS = 86400.0  # then a window that fits in one page doubles, one that does not fit its pages halves
MIN_WINDOW_SECONDS = 60.0


def _moment(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def refresh_store(ctx: WorkerContext, store: Store) -> bool:
    """One incremental refresh of the store's mirror; False when Amazon could not be asked now."""
    available = int(ctx.limiter.available(store.seller_id, SEARCH_ORDERS.name))
    if available < ctx.mirror.refresh_pages_wanted.get(store.code, 1):
        return False
    cursor = ctx.mirror.cursor(store.code)
    started = ctx.clock()
    if cursor is None or cursor.updated_after is None:  # a new store: changes from now on, the backfill the rest
        ctx.mirror.begin(store.code, updated_after=started - SETTLE_SECONDS)
        cursor = ctx.mirror.cursor(store.code)
        assert cursor is not None and cursor.updated_after is not None
    try:
        search = ctx.orders_api.search_orders(
            store, Deadline(STEP_SECONDS), updated_after=_moment(cursor.updated_after), max_pages=available
        )
        # Pages read are newer views of their orders, kept even when the calls ran out before the last page; the
        # cursor moves only once every page was read, so the next refresh reads those pages again, never skips one.
        ctx.mirror.record(store.code, search.orders, seen_at=started)
        if not search.complete:
            burst = PUBLISHED_QUOTAS[SEARCH_ORDERS.name][1]
            ctx.mirror.refresh_pages_wanted[store.code] = min(burst, search.pages + 1)
            raise UpstreamUnavailable(SERVICE, f"searchOrders: more than {search.pages} pages of changes")
        ctx.mirror.refresh_pages_wanted.pop(store.code, None)
        # Amazon answers with the time up to which its answer is complete (a little before now).
        until = min(search.complete_until.timestamp(), started) if search.complete_until else started
        ctx.mirror.advance(store.code, updated_after=until, complete_as_of=until)
        ctx.mirror.lag[store.code] = started - until
    except UpstreamError as exc:
        log.warning("order mirror refresh failed", extra={"store": store.code, "error": str(exc)})
        return False
    log.info("order mirror refreshed", extra={"store": store.code, "orders": len(search.orders), "pages": search.pages})
    return True


def backfill_store(ctx: WorkerContext, store: Store) -> bool:
    """Read one more window of the store's past orders (newest first) into the mirror, with a call the refreshes
    can spare; True once the backfill is done (every order created in the last ``BRIDGE_MIRROR_BACKFILL_DAYS``).

    Each window ends where the last one began, so a worker killed between windows loses at most one; a window with
    more orders than its pages is recorded as read and halved, so the backfill goes on at any order rate.
    """
    cursor = ctx.mirror.cursor(store.code)
    if cursor is None or cursor.updated_after is None:
        return False  # the first refresh sets where the backfill starts
    if cursor.backfilled_at is not None:
        return True
    started = ctx.clock()
    floor = started - ctx.pipeline.mirror_backfill_days * 86400
    before = cursor.backfill_before if cursor.backfill_before is not None else cursor.updated_after
    before = min(before, started - SETTLE_SECONDS)
    pages = min(BACKFILL_PAGES, int(ctx.limiter.available(store.seller_id, SEARCH_ORDERS.name)) - BACKFILL_SPARES)
    if before > floor and pages >= 1:
        window = ctx.mirror.backfill_window.get(store.code, FIRST_WINDOW_SECONDS)
        after = max(floor, before - window)
        try:
            search = ctx.orders_api.search_orders(
                store, Deadline(STEP_SECONDS), created_after=_moment(after), created_before=_moment(before),
                max_pages=pages,
            )  # fmt: skip
        except UpstreamError as exc:
            log.warning("order mirror backfill failed", extra={"store": store.code, "error": str(exc)})
            return False
        ctx.mirror.record(store.code, search.orders, seen_at=started)
        if not search.complete:
            ctx.mirror.backfill_window[store.code] = max(MIN_WINDOW_SECONDS, window / 2)
            return False
        if search.pages == 1:
            ctx.mirror.backfill_window[store.code] = window * 2
        before = after
        log.info("order mirror backfilled", extra={"store": store.code, "orders": len(search.orders),
                                                   "down_to": _moment(after).isoformat()})  # fmt: skip
    done = before <= floor
    ctx.mirror.backfilled_down_to(store.code, before, backfilled_at=started if done else None)
    return done


def mirror_is_stale(ctx: WorkerContext, store: Store) -> bool:
    """Too old to be worth waiting for (e.g. searchOrders cannot keep up): read orders one by one instead."""
    cursor = ctx.mirror.cursor(store.code)
    complete_as_of = cursor.complete_as_of if cursor and cursor.complete_as_of is not None else 0.0
    return complete_as_of < ctx.clock() - ctx.pipeline.mirror_max_age_seconds


def mirror_covers(ctx: WorkerContext, store: Store, moment: float) -> bool:
    """The mirror already holds every change of this store up to ``moment``."""
    cursor = ctx.mirror.cursor(store.code)
    return cursor is not None and cursor.complete_as_of is not None and cursor.complete_as_of >= moment


def ensure_complete_as_of(ctx: WorkerContext, store: Store, moment: float) -> float | None:
    """Make sure the mirror holds every change of this store up to ``moment``, refreshing once if needed.

    Returns None when it does, else when to try again: Amazon's answers are complete only up to a little before
    now (about two minutes), and searchOrders may have no call to spare.
    """
    if mirror_covers(ctx, store, moment):
        return None
    lag = ctx.mirror.lag.get(store.code, 0.0)
    if moment > ctx.clock() - lag:  # a search now could not cover it yet: do not spend a scarce call on it
        return moment + lag + MIN_WAIT_SECONDS
    if not refresh_store(ctx, store):
        wait = ctx.limiter.seconds_until_available(store.seller_id, SEARCH_ORDERS.name)
        return ctx.clock() + max(MIN_WAIT_SECONDS, wait)
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

    From the mirror once it holds every change since the requests last moved. While it does not yet, a batch of
    up to ``read_live_up_to`` is read one by one with ``read_one`` at once (neither waiting out searchOrders' lag
    of about two minutes nor spending one of its scarce calls on a few orders); a larger one gets the mirror
    refreshed, or waits for it (released until then) unless it is stale or searchOrders has no call left (a refresh
    of a big batch's changes takes several pages, one every three minutes once its burst is spent): then they are
    read live too. At most LIVE_READS_PER_ROUND orders are read live a round, each only with a getOrder call free
    now, so a round never waits out the quota. Requests not answered are released.
    """
    mirrored: dict[str, AmazonOrder] = {}
    if ctx.amazon_status.mirror_enabled:
        moment = max(r.updated_at.timestamp() for r in requests)
        if mirror_covers(ctx, store, moment):
            mirrored = ctx.mirror.get_many((r.amazon_order_id for r in requests), store.marketplace_id)
        elif len(requests) > read_live_up_to:
            retry_at = ensure_complete_as_of(ctx, store, moment)
            if retry_at is None:
                mirrored = ctx.mirror.get_many((r.amazon_order_id for r in requests), store.marketplace_id)
            elif not mirror_is_stale(ctx, store) and ctx.limiter.available(store.seller_id, SEARCH_ORDERS.name) >= 1:
                ctx.cancel_requests.release_all(requests, ctx.owner, retry_at)
                return
    unread: list[CancelRequest] = []  # given back together, to be read in a later round
    read_again_at = 0.0  # the next round, or when getOrder has a call again
    live_reads = 0
    for request in requests:
        order = None if ctx.stop.is_set() else mirrored.get(request.amazon_order_id)
        if order is None and not unread and not ctx.stop.is_set() and live_reads < LIVE_READS_PER_ROUND:
            wait = ctx.limiter.seconds_until_available(store.seller_id, GET_ORDER.name)
            if wait > 0:
                read_again_at = ctx.clock() + wait
            else:
                live_reads += 1
                order = read_one(request)
                if order is None:
                    continue  # read_one settled or released it
        if order is None:
            unread.append(request)
            continue
        yield request, order
    ctx.cancel_requests.release_all(unread, ctx.owner, read_again_at)
