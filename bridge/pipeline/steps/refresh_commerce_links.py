"""Step: keep the Commerce link mirror current, so the hook knows an order's Amazon link before the admin clicks.

One search of Commerce's orders by ``updated_at`` (a backfill of the last ``BRIDGE_MIRROR_BACKFILL_DAYS`` at first,
then from the stored cursor), only the fields a link needs, every ``BRIDGE_COMMERCE_LINKS_REFRESH_SECONDS``. Pages
are read by key: each page starts at the last ``updated_at`` the previous one ended on, so an order updated while
the search pages on moves to a later page instead of slipping between two. ``updated_at`` has whole seconds, so the
cursor's second is read again; remembering a link twice changes nothing.
"""

from __future__ import annotations

import logging

from bridge.deadline import Deadline
from bridge.domain.records import OrderLink
from bridge.errors import UpstreamError
from bridge.pipeline.worker_context import STEP_SECONDS, WorkerContext
from bridge.storage.order_links import LINK_CURSOR

log = logging.getLogger(__name__)
PAGE_SIZE = 200
MAX_PAGES = 50  # per round; a longer backlog is taken up again next round, from where this one stopped
SAVE_LAG_SECONDS = 2.0  # an order saved this close to the search may not be visible to it yet


def refresh_commerce_links(ctx: WorkerContext) -> int:
    """One search round if the link mirror is due; how many links or states it changed."""
    cursor = ctx.links.cursor(LINK_CURSOR)
    started = ctx.clock()
    refreshed_lately = cursor is not None and (cursor.complete_as_of or 0.0) >= (
        started - ctx.pipeline.commerce_links_refresh_seconds
    )
    if refreshed_lately:
        return 0
    backfill = cursor is None or cursor.updated_after is None
    since = started - ctx.pipeline.mirror_backfill_days * 86400 if backfill else cursor.updated_after
    assert since is not None
    changed, page, complete, newest = 0, 1, False, since
    try:
        for _ in range(MAX_PAGES):
            orders, total = ctx.commerce.orders_updated_since(since, page, PAGE_SIZE, Deadline(STEP_SECONDS))
            changed += ctx.links.remember(OrderLink.of(o, ctx.settings.order_importers) for o in orders)
            newest = max([newest, *(o.updated_at for o in orders if o.updated_at is not None)])
            if len(orders) < PAGE_SIZE or page * PAGE_SIZE >= total:  # past the end, Commerce repeats the last page
                complete = True
                break
            since, page = (newest, 1) if newest > since else (since, page + 1)  # a full page inside one second
    except UpstreamError as exc:
        log.warning("Commerce link mirror not refreshed", extra={"error": str(exc)})
        return 0
    previous = cursor.complete_as_of if cursor and cursor.complete_as_of is not None else 0.0
    complete_as_of = started - SAVE_LAG_SECONDS if complete else previous
    ctx.links.advance(LINK_CURSOR, newest, complete_as_of, backfilled_at=started if backfill else None)
    log.info("Commerce link mirror refreshed", extra={"changed": changed, "complete": complete, "backfill": backfill})
    return changed
