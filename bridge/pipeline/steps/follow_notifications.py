"""Step: act on Amazon's notifications from the SQS queue, first thing in a round, so the rest of the round uses them.

- ``ORDER_CHANGE`` (a status change, a buyer's request to cancel): the order, whoever fulfils it, is read again with
  getOrder (the notification is only a hint: delivery is at least once and unordered) and recorded in the order
  mirror, which holds every order of the store and never lets an older view replace a newer one. The round's
  reflect step then does what it does with every mirrored change: a cancel made at Amazon reaches the Commerce
  order, a buyer's request is flagged (or canceled, with ``BRIDGE_BUYER_CANCEL_REQUESTS=cancel``). Orders of stores
  the bridge does not know or whose import is off are ignored.
- ``FEED_PROCESSING_FINISHED``: the feed's next getFeed is made due now, so the round's feed step reads its report.

A message is deleted only once what it caused is recorded. A worker that dies in between leaves the message to come
back after the queue's visibility timeout: the order is read again and brings nothing new, the feed is already read.
Every effect is per order or per feed, so a notification delivered twice, or the same change sent under two
notification ids, changes nothing twice. A message that is no notification the bridge reads is logged (its id and
what was wrong, never its body) and deleted, so that it never blocks the queue.
"""

from __future__ import annotations

import logging
from enum import Enum

from bridge.clients.notification_messages import (
    FeedFinished,
    MalformedNotification,
    OrderChanged,
    parse_notification,
)
from bridge.clients.spapi_operations import GET_ORDER
from bridge.clients.sqs_queue import QueueMessage
from bridge.deadline import Deadline
from bridge.domain.feed_builder import FEED_TYPE
from bridge.errors import NotFound, UpstreamError
from bridge.metrics import (
    NOTIFICATIONS_DUPLICATES,
    NOTIFICATIONS_MALFORMED,
    NOTIFICATIONS_PROCESSED,
    NOTIFICATIONS_RECEIVED,
)
from bridge.pipeline.notification_inbox import NotificationInbox
from bridge.pipeline.worker_context import STEP_SECONDS, WorkerContext

log = logging.getLogger(__name__)


class Effect(Enum):
    CHANGED = "changed"  # recorded something new
    NOTHING_NEW = "nothing_new"  # already known: a duplicate
    IGNORED = "ignored"  # not the bridge's (another store, import off, another feed type)
    LATER = "later"  # could not be acted on now: left in the queue, it comes back after the visibility timeout


def follow_notifications(ctx: WorkerContext) -> int:
    """Act on the messages received since the last round; how many brought something new."""
    inbox = ctx.notifications
    if inbox is None:
        return 0
    if inbox.due_for_a_look(ctx.pipeline.worker_idle_seconds):
        inbox.receive(0)  # a worker kept busy never idles, where it would long-poll: look without waiting
    ctx.notifications_live = inbox.live
    changed = 0
    for message in inbox.take():
        if ctx.stop.is_set():
            break  # the rest are not deleted: the queue hands them out again after its visibility timeout
        changed += _act_on(ctx, inbox, message)
    return changed


def _act_on(ctx: WorkerContext, inbox: NotificationInbox, message: QueueMessage) -> int:
    try:
        notification = parse_notification(message.body)
    except MalformedNotification as exc:
        NOTIFICATIONS_RECEIVED.labels("other").inc()
        NOTIFICATIONS_MALFORMED.inc()
        log.warning("notification unreadable, deleted", extra={"sqs_message_id": message.message_id,
                                                                "error": str(exc)})  # fmt: skip
        inbox.delete(message)
        return 0
    kind = notification.kind
    NOTIFICATIONS_RECEIVED.labels(kind).inc()
    if inbox.acted_on(notification.notification_id):
        effect = Effect.NOTHING_NEW
    elif isinstance(notification, OrderChanged):
        effect = _order_changed(ctx, notification)
    else:
        effect = _feed_finished(ctx, notification)
    if effect is Effect.LATER:
        return 0
    if effect is Effect.NOTHING_NEW:
        NOTIFICATIONS_DUPLICATES.labels(kind).inc()
    # What the notification caused is committed: only now may the message go (a crash before the delete means a
    # redelivery, which finds nothing new).
    inbox.remember(notification.notification_id)
    inbox.delete(message)
    NOTIFICATIONS_PROCESSED.labels(kind).inc()
    return int(effect is Effect.CHANGED)


def _order_changed(ctx: WorkerContext, notification: OrderChanged) -> Effect:
    store = next(
        (s for s in ctx.stores
         if s.seller_id == notification.seller_id and s.marketplace_id == notification.marketplace_id),
        None,
    )  # fmt: skip
    if store is None or not store.order_import:
        log.info("order change of no store the bridge follows", extra={
            "amazon_order_id": notification.amazon_order_id, "seller_id": notification.seller_id,
            "marketplace_id": notification.marketplace_id, "store": store.code if store else None})  # fmt: skip
        return Effect.IGNORED
    if ctx.limiter.available(store.seller_id, GET_ORDER.name) < 1:
        return Effect.LATER  # getOrder's quota is the webhook's too: leave it rather than wait for it here
    seen_at = ctx.clock()
    try:
        order = ctx.orders_api.get_order(store, notification.amazon_order_id, Deadline(STEP_SECONDS))
    except NotFound:
        log.info("order change of an order Amazon does not show", extra={
            "amazon_order_id": notification.amazon_order_id, "store": store.code})  # fmt: skip
        return Effect.IGNORED
    except UpstreamError as exc:
        log.warning("order change not read yet", extra={"amazon_order_id": notification.amazon_order_id,
                                                         "error": str(exc)})  # fmt: skip
        return Effect.LATER
    before = ctx.mirror.get_many([order.order_id], store.marketplace_id).get(order.order_id)
    if before == order:
        return Effect.NOTHING_NEW
    ctx.mirror.record(store.code, [order], seen_at)
    log.info("order change followed", extra={"amazon_order_id": order.order_id, "store": store.code,
                                              "status": order.status, "change": notification.change_type})  # fmt: skip
    return Effect.CHANGED


def _feed_finished(ctx: WorkerContext, notification: FeedFinished) -> Effect:
    if notification.feed_type != FEED_TYPE:
        return Effect.IGNORED
    if not ctx.feeds.poll_now(notification.feed_id, notification.seller_id, ctx.clock()):
        return Effect.NOTHING_NEW  # not a feed the bridge is following: another application's, or read already
    log.info("feed finished, reading it now", extra={"amazon_feed_id": notification.feed_id,
                                                     "processing_status": notification.processing_status})  # fmt: skip
    return Effect.CHANGED
