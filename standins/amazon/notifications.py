"""Notifications API v1 for the SP-API stand-in (``reference/amazon/notifications/notifications.json``), and the
notifications themselves, sent to a real SQS endpoint (moto's server mode in the tests) with boto3.

Routes, each at Amazon's quota (1 request/s, burst 5; 429 ``QuotaExceeded`` past it):

- ``POST /notifications/v1/destinations`` (createDestination) and ``GET .../destinations`` (getDestinations):
  grantless, with a ``client_credentials`` token of scope ``sellingpartnerapi::notifications`` (a seller's token is
  refused with 403); a second destination for the same ARN answers 409 ``Conflict``;
- ``POST /notifications/v1/subscriptions/<type>`` (createSubscription) and ``GET .../subscriptions/<type>``
  (getSubscription): the seller's token; one subscription per seller and type (409, then 404 for none).

Once a seller is subscribed, ``NotificationService``'s notifier thread (``start``/``stop``; started by the first
subscription) watches the stand-in as Amazon's systems would: an order whose status changes (a cancel in Seller
Central, a feed's cancel, shipping) or whose buyer asks to cancel gets an ``ORDER_CHANGE`` (PascalCase), a feed that
reaches DONE, CANCELLED or FATAL a ``FEED_PROCESSING_FINISHED`` (camelCase), each sent to the queue of the
subscription's destination, with a fresh ``NotificationId``. The thread also processes due feeds, as Amazon does
without being asked. Tests craft their own with ``order_change`` / ``feed_finished`` and ``deliver`` (a duplicate,
the same change under another id), and read what went out in ``sent``.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
from flask import Blueprint, Response, current_app, jsonify, request

from standins.amazon.contract import (
    ACCESS_DENIED_MESSAGE,
    CREATE_DESTINATION,
    CREATE_SUBSCRIPTION,
    GET_DESTINATIONS,
    GET_SUBSCRIPTION,
    INTERNAL_FAILURE_MESSAGE,
    QUOTA_EXCEEDED_MESSAGE,
    error_envelope,
    gate,
)
from standins.amazon.feeds import TERMINAL_STATUSES, FeedService, StandInFeed, invalid, json_object
from standins.amazon.orders import StandInOrder

NOTIFICATIONS_SCOPE = "sellingpartnerapi::notifications"
ORDER_CHANGE = "ORDER_CHANGE"
FEED_PROCESSING_FINISHED = "FEED_PROCESSING_FINISHED"
NOTIFICATION_TYPES = {ORDER_CHANGE: "1.0", FEED_PROCESSING_FINISHED: "2020-09-04"}  # type -> payload version
APPLICATION = "application"  # the quota bucket of grantless calls
TOKEN_LIFETIME = 3600
TICK_SECONDS = 0.05  # how often the notifier looks for changes (Amazon: within seconds)
SQS_ARN = "arn:aws:sqs:"
# Orders API statuses as ORDER_CHANGE's Summary.OrderStatus spells them (the older Orders API's words).
SUMMARY_STATUS = {
    "PENDING": "Pending", "UNSHIPPED": "Unshipped", "PARTIALLY_SHIPPED": "PartiallyShipped", "SHIPPED": "Shipped",
    "CANCELLED": "Canceled", "UNFULFILLABLE": "Unfulfillable", "PENDING_AVAILABILITY": "PendingAvailability",
}  # fmt: skip
CHANGE_REASONS = {"MERCHANT": "Seller Canceled", "BUYER": "Buyer Canceled", "AMAZON": "Amazon Canceled"}

NOTIFICATIONS_EXTENSION = "amazon_notifications"
blueprint = Blueprint("notifications", __name__)


def _iso_ms(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class StandInDestination:
    destination_id: str
    name: str
    arn: str

    def to_json(self) -> dict[str, Any]:
        return {"destinationId": self.destination_id, "name": self.name, "resource": {"sqs": {"arn": self.arn}}}


@dataclass(frozen=True)
class StandInSubscription:
    subscription_id: str
    seller_id: str
    notification_type: str
    destination_id: str
    payload_version: str

    def to_json(self) -> dict[str, Any]:
        return {"subscriptionId": self.subscription_id, "payloadVersion": self.payload_version,
                "destinationId": self.destination_id}  # fmt: skip


@dataclass(frozen=True)
class Sent:
    notification_type: str
    queue_url: str
    body: str
    at: float = field(default_factory=time.monotonic)  # when SQS took it


class NotificationService:
    """Destinations, subscriptions and the notifier thread of one stand-in; shares its lock through ``changed``."""

    def __init__(
        self,
        orders: dict[str, StandInOrder],
        feeds: FeedService,
        changed: threading.Condition,
        application_id: str = "amzn1.sellerapps.app.standin",
    ) -> None:
        self._orders = orders
        self._feeds = feeds
        self.changed = changed
        self.application_id = application_id
        self.sqs_endpoint_url: str | None = None  # None: boto3's own (AWS_ENDPOINT_URL_SQS, else AWS)
        self.destinations: dict[str, StandInDestination] = {}
        self.subscriptions: dict[tuple[str, str], StandInSubscription] = {}
        self.sent: list[Sent] = []
        self.send_failures = 0
        self._grantless_tokens: dict[str, float] = {}
        self._seen_orders: dict[str, tuple[str, bool]] = {}
        self._announced_feeds: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._queue_urls: dict[str, str] = {}
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()

    # --- grantless tokens ---------------------------------------------------------------------------------
    def grantless_token(self) -> str:
        token = "Atza|grantless-" + secrets.token_urlsafe(24)
        with self.changed:
            self._grantless_tokens[token] = time.monotonic() + TOKEN_LIFETIME
        return token

    def is_grantless(self, token: str | None) -> bool:
        with self.changed:
            expires = self._grantless_tokens.get(token or "")
        return expires is not None and expires > time.monotonic()

    # --- destinations and subscriptions -------------------------------------------------------------------
    def create_destination(self, name: str, arn: str) -> StandInDestination | None:
        """The new destination; None when the ARN has one already (409)."""
        with self.changed:
            if any(d.arn == arn for d in self.destinations.values()):
                return None
            destination = StandInDestination(str(uuid.uuid4()), name, arn)
            self.destinations[destination.destination_id] = destination
        return destination

    def subscribe(self, seller_id: str, notification_type: str, destination_id: str) -> StandInSubscription | None:
        """The new subscription; None when the seller has one of this type (409)."""
        with self.changed:
            key = (seller_id, notification_type)
            if key in self.subscriptions:
                return None
            subscription = StandInSubscription(
                str(uuid.uuid4()), seller_id, notification_type, destination_id, NOTIFICATION_TYPES[notification_type]
            )
            self.subscriptions[key] = subscription
        self.start()
        return subscription

    # --- the notifier -------------------------------------------------------------------------------------
    def start(self) -> None:
        """Watch for changes from now on (what happened before is not announced)."""
        with self.changed:
            if self._thread is not None:
                return
            self._seen_orders = {o.order_id: (o.status, o.buyer_requested_cancel) for o in self._orders.values()}
            self._announced_feeds = {f.feed_id for f in self._feeds.feeds.values() if f.status in TERMINAL_STATUSES}
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="amazon-notifier", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self.changed:
            thread, self._thread = self._thread, None
        self._stop.set()
        if thread is not None:
            thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            self.tick()

    def tick(self) -> None:
        """Process due feeds, then announce what changed since the last tick."""
        self._feeds.process_due()
        outgoing: list[tuple[str, str, dict[str, Any]]] = []
        with self.changed:
            for order in self._orders.values():
                now = (order.status, order.buyer_requested_cancel)
                before = self._seen_orders.get(order.order_id)
                if before == now:
                    continue
                self._seen_orders[order.order_id] = now
                if before is not None and not before[1] and order.buyer_requested_cancel:
                    change = self.order_change(order, "BuyerRequestedChange", "Buyer Requested Cancel")
                else:
                    reason = CHANGE_REASONS.get(order.cancelled_by or "", "Order Status Changed")
                    change = self.order_change(order, "OrderStatusChange", reason)
                outgoing.append((order.seller_id, ORDER_CHANGE, change))
            for feed in self._feeds.feeds.values():
                if feed.status in TERMINAL_STATUSES and feed.feed_id not in self._announced_feeds:
                    self._announced_feeds.add(feed.feed_id)
                    outgoing.append((feed.seller_id, FEED_PROCESSING_FINISHED, self.feed_finished(feed)))
        for seller_id, notification_type, body in outgoing:
            self.deliver(seller_id, notification_type, body)

    # --- messages, in Amazon's shapes ---------------------------------------------------------------------
    def _metadata(self, seller_id: str, notification_type: str, notification_id: str | None) -> dict[str, str]:
        subscription = self.subscriptions.get((seller_id, notification_type))
        return {
            "ApplicationId": self.application_id,
            "SubscriptionId": subscription.subscription_id if subscription else "subscription-none",
            "PublishTime": _iso_ms(datetime.now(UTC)),
            "NotificationId": notification_id or str(uuid.uuid4()),
        }

    def order_change(
        self, order: StandInOrder, change_type: str, reason: str, notification_id: str | None = None
    ) -> dict[str, Any]:
        """An ``ORDER_CHANGE`` notification (PascalCase) for the order as it is now."""
        shipped = order.status == "SHIPPED"
        items = [
            {"OrderItemId": item_id, "SellerSKU": f"SKU-{index}", "SupplySourceId": None,
             "OrderItemStatus": "Shipped" if shipped else "Unshipped", "Quantity": 1, "QuantityShipped": int(shipped),
             "IsBuyerRequestedCancel": order.buyer_requested_cancel}
            for index, item_id in enumerate(order.item_ids, start=1)
        ]  # fmt: skip
        return {
            "NotificationVersion": "1.0",
            "NotificationType": ORDER_CHANGE,
            "PayloadVersion": "1.0",
            "EventTime": _iso_ms(datetime.now(UTC)),
            "Payload": {
                "OrderChangeNotification": {
                    "NotificationLevel": "OrderLevel",
                    "SellerId": order.seller_id,
                    "AmazonOrderId": order.order_id,
                    "OrderChangeType": change_type,
                    "OrderChangeTrigger": {"TimeOfOrderChange": _iso_ms(order.updated), "ChangeReason": reason},
                    "Summary": {
                        "MarketplaceId": order.marketplace_id,
                        "OrderStatus": SUMMARY_STATUS.get(order.status, "Pending"),
                        "PurchaseDate": _iso_ms(order.created),
                        "DestinationPostalCode": None,
                        "FulfillmentType": "MFN" if order.fulfilled_by == "MERCHANT" else "AFN",
                        "OrderType": "StandardOrder",
                        "NumberOfItemsShipped": len(items) if shipped else 0,
                        "NumberOfItemsUnshipped": 0 if shipped else len(items),
                        "OrderItems": items,
                    },
                }
            },
            "NotificationMetadata": self._metadata(order.seller_id, ORDER_CHANGE, notification_id),
        }

    def feed_finished(self, feed: StandInFeed, notification_id: str | None = None) -> dict[str, Any]:
        """A ``FEED_PROCESSING_FINISHED`` notification (camelCase)."""
        finished: dict[str, Any] = {
            "sellerId": feed.seller_id,
            "accountId": f"amzn1.merchant.o.{feed.seller_id}",
            "feedId": feed.feed_id,
            "feedType": feed.feed_type,
            "processingStatus": feed.status,
        }
        if feed.result_document_id:
            finished["resultFeedDocumentId"] = feed.result_document_id
        metadata = self._metadata(feed.seller_id, FEED_PROCESSING_FINISHED, notification_id)
        return {
            "notificationVersion": "2020-09-04",
            "notificationType": FEED_PROCESSING_FINISHED,
            "payloadVersion": "2020-09-04",
            "eventTime": _iso_ms(datetime.now(UTC)),
            "payload": {"feedProcessingFinishedNotification": finished},
            "notificationMetadata": {key[0].lower() + key[1:]: value for key, value in metadata.items()},
        }

    def deliver(self, seller_id: str, notification_type: str, body: dict[str, Any]) -> bool:
        """Send to the queue of the seller's subscription to this type; False when it has none (or SQS failed)."""
        with self.changed:
            subscription = self.subscriptions.get((seller_id, notification_type))
            destination = self.destinations.get(subscription.destination_id) if subscription else None
        if destination is None:
            return False
        text = json.dumps(body)
        try:
            queue_url = self._queue_url(destination.arn)
            self._sqs(destination.arn).send_message(QueueUrl=queue_url, MessageBody=text)
        except Exception:  # the stand-in keeps going, as Amazon does when a destination cannot be reached
            with self.changed:
                self.send_failures += 1
                self.changed.notify_all()
            return False
        with self.changed:
            self.sent.append(Sent(notification_type, queue_url, text))
            self.changed.notify_all()
        return True

    def _sqs(self, arn: str) -> Any:
        """One boto3 client per region (making one takes a while; using one from several threads is safe)."""
        region = arn.split(":")[3]
        with self._clients_lock:
            if region not in self._clients:
                self._clients[region] = boto3.client("sqs", region_name=region, endpoint_url=self.sqs_endpoint_url)
            return self._clients[region]

    def _queue_url(self, arn: str) -> str:
        if arn not in self._queue_urls:
            account, name = arn.split(":")[4:6]
            answer = self._sqs(arn).get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)
            self._queue_urls[arn] = answer["QueueUrl"]
        return self._queue_urls[arn]


# --- routes ---------------------------------------------------------------------------------------------------
def _service() -> NotificationService:
    return current_app.extensions[NOTIFICATIONS_EXTENSION]


def _grantless_guard(operation: str) -> Response | None:
    """Grantless operations: the application's client_credentials token, faults, then the application's quota."""
    fault = gate().take_fault(operation)
    if not _service().is_grantless(request.headers.get("x-amz-access-token")):
        return error_envelope(
            403, "Unauthorized", ACCESS_DENIED_MESSAGE,
            "This operation needs a grantless token (client_credentials, scope sellingpartnerapi::notifications).",
        )  # fmt: skip
    if fault and fault.status == 429:
        return error_envelope(429, "QuotaExceeded", QUOTA_EXCEEDED_MESSAGE)
    if fault and fault.status:
        return error_envelope(fault.status, "InternalFailure", INTERNAL_FAILURE_MESSAGE)
    if not gate().take_quota(APPLICATION, operation):
        return error_envelope(429, "QuotaExceeded", QUOTA_EXCEEDED_MESSAGE)
    return None


def _answer(operation: str, payload: Any, status: int = 200) -> Response:
    response = jsonify({"payload": payload})
    response.status_code = status
    return gate().with_rate_header(response, operation)


@blueprint.post("/notifications/v1/destinations")
def create_destination() -> Response:
    operation = CREATE_DESTINATION
    refusal = _grantless_guard(operation)
    if refusal:
        return refusal
    body, bad = json_object(operation)
    if bad:
        return bad
    name = body.get("name")
    arn = ((body.get("resourceSpecification") or {}).get("sqs") or {}).get("arn")
    if not isinstance(name, str) or not name or len(name) > 256:
        return invalid(operation, "name is required (at most 256 characters).")
    if not isinstance(arn, str) or not arn.startswith(SQS_ARN) or arn.count(":") != 5:
        return invalid(operation, "resourceSpecification.sqs.arn must be an SQS queue ARN.")
    destination = _service().create_destination(name, arn)
    if destination is None:
        conflict = error_envelope(409, "Conflict", "A destination with this resource already exists.")
        return gate().with_rate_header(conflict, operation)
    return _answer(operation, destination.to_json())


@blueprint.get("/notifications/v1/destinations")
def get_destinations() -> Response:
    operation = GET_DESTINATIONS
    refusal = _grantless_guard(operation)
    if refusal:
        return refusal
    with _service().changed:
        payload = [d.to_json() for d in _service().destinations.values()]
    return _answer(operation, payload)


@blueprint.post("/notifications/v1/subscriptions/<notification_type>")
def create_subscription(notification_type: str) -> Response:
    operation = CREATE_SUBSCRIPTION
    seller, refusal = gate().guard(operation)
    if refusal:
        return refusal
    body, bad = json_object(operation)
    if bad:
        return bad
    if notification_type not in NOTIFICATION_TYPES:
        return invalid(operation, f"{notification_type} is not a notification type the stand-in offers.")
    destination_id, version = body.get("destinationId"), body.get("payloadVersion")
    if not isinstance(destination_id, str) or destination_id not in _service().destinations:
        return invalid(operation, "destinationId must name an existing destination.")
    if version != NOTIFICATION_TYPES[notification_type]:
        return invalid(operation, f"payloadVersion must be {NOTIFICATION_TYPES[notification_type]}.")
    subscription = _service().subscribe(seller or "", notification_type, destination_id)
    if subscription is None:
        conflict = error_envelope(409, "Conflict", "A subscription for this notification type already exists.")
        return gate().with_rate_header(conflict, operation)
    return _answer(operation, subscription.to_json())


@blueprint.get("/notifications/v1/subscriptions/<notification_type>")
def get_subscription(notification_type: str) -> Response:
    operation = GET_SUBSCRIPTION
    seller, refusal = gate().guard(operation)
    if refusal:
        return refusal
    with _service().changed:
        subscription = _service().subscriptions.get((seller or "", notification_type))
    if subscription is None:
        missing = error_envelope(404, "NotFound", f"No subscription for {notification_type}.")
        return gate().with_rate_header(missing, operation)
    return _answer(operation, subscription.to_json())
