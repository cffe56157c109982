"""Step: keep each store's order mirror fresh on a schedule, so the webhook can answer without asking Amazon, and
fill it with the store's past orders (the backfill) with the calls the refreshes leave over."""

from __future__ import annotations

from bridge.pipeline.amazon_view import backfill_store, refresh_store
from bridge.pipeline.worker_context import WorkerContext


def refresh_amazon_mirror(ctx: WorkerContext) -> int:
    """Refresh every store whose mirror is older than ``BRIDGE_MIRROR_REFRESH_SECONDS``; how many were."""
    if not ctx.amazon_status.mirror_enabled:
        return 0
    refreshed = 0
    for store in ctx.stores:
        if not store.order_import or ctx.stop.is_set():
            continue
        cursor = ctx.mirror.cursor(store.code)
        due = cursor is None or cursor.complete_as_of is None
        if not due and cursor is not None and cursor.complete_as_of is not None:
            due = cursor.complete_as_of < ctx.clock() - ctx.pipeline.mirror_refresh_seconds
        if due and refresh_store(ctx, store):
            refreshed += 1
        backfill_store(ctx, store)
    return refreshed
