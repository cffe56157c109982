"""Amazon's SP-API notifications as they arrive in the SQS queue: the message body is the notification's JSON.

Two shapes, as Amazon publishes them (``OrderChangeNotification.json``, ``FeedProcessingFinishedNotification.json``):
``ORDER_CHANGE`` in PascalCase, ``FEED_PROCESSING_FINISHED`` in camelCase. Only what the bridge acts on is
required; anything else Amazon adds is ignored. Delivery is at least once and unordered, so a notification is a
hint to look again (the order is re-read with getOrder, the feed with getFeed), never the fact itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from marshmallow import ValidationError, fields, validate

from bridge.clients.spapi import AmazonAnswer

ORDER_CHANGE = "ORDER_CHANGE"
FEED_PROCESSING_FINISHED = "FEED_PROCESSING_FINISHED"
NOTIFICATION_TYPES = (ORDER_CHANGE, FEED_PROCESSING_FINISHED)
MAX_BODY_CHARACTERS = 256 * 1024  # SQS's largest message


class MalformedNotification(Exception):
    """Not a notification the bridge reads; the message says why (never the body itself, which may be large)."""


_TEXT = validate.Length(min=1, max=200)


class _OrderItemSchema(AmazonAnswer):
    IsBuyerRequestedCancel = fields.Boolean(load_default=False)


class _OrderSummarySchema(AmazonAnswer):
    MarketplaceId = fields.String(required=True, validate=_TEXT)
    OrderStatus = fields.String(load_default=None, allow_none=True)
    FulfillmentType = fields.String(load_default=None, allow_none=True)
    OrderItems = fields.List(fields.Nested(_OrderItemSchema), load_default=list)


class _OrderChangeTriggerSchema(AmazonAnswer):
    TimeOfOrderChange = fields.String(load_default=None, allow_none=True)
    ChangeReason = fields.String(load_default=None, allow_none=True)


class _OrderChangeNotificationSchema(AmazonAnswer):
    SellerId = fields.String(required=True, validate=_TEXT)
    AmazonOrderId = fields.String(required=True, validate=_TEXT)
    OrderChangeType = fields.String(required=True, validate=_TEXT)
    OrderChangeTrigger = fields.Nested(_OrderChangeTriggerSchema, load_default=dict)
    Summary = fields.Nested(_OrderSummarySchema, required=True)


class _OrderChangePayloadSchema(AmazonAnswer):
    OrderChangeNotification = fields.Nested(_OrderChangeNotificationSchema, required=True)


class _PascalMetadataSchema(AmazonAnswer):
    NotificationId = fields.String(required=True, validate=_TEXT)


class OrderChangeSchema(AmazonAnswer):
    """``ORDER_CHANGE``: an order's status changed, or its buyer asked to cancel it."""

    NotificationType = fields.String(required=True, validate=validate.Equal(ORDER_CHANGE))
    Payload = fields.Nested(_OrderChangePayloadSchema, required=True)
    NotificationMetadata = fields.Nested(_PascalMetadataSchema, required=True)


class _FeedFinishedSchema(AmazonAnswer):
    sellerId = fields.String(load_default=None, allow_none=True)
    accountId = fields.String(load_default=None, allow_none=True)
    feedId = fields.String(required=True, validate=_TEXT)
    feedType = fields.String(required=True, validate=_TEXT)
    processingStatus = fields.String(required=True, validate=_TEXT)
    resultFeedDocumentId = fields.String(load_default=None, allow_none=True)


class _FeedPayloadSchema(AmazonAnswer):
    feedProcessingFinishedNotification = fields.Nested(_FeedFinishedSchema, required=True)


class _CamelMetadataSchema(AmazonAnswer):
    notificationId = fields.String(required=True, validate=_TEXT)


class FeedProcessingFinishedSchema(AmazonAnswer):
    """``FEED_PROCESSING_FINISHED``: a feed reached DONE, CANCELLED or FATAL."""

    notificationType = fields.String(required=True, validate=validate.Equal(FEED_PROCESSING_FINISHED))
    payload = fields.Nested(_FeedPayloadSchema, required=True)
    notificationMetadata = fields.Nested(_CamelMetadataSchema, required=True)


@dataclass(frozen=True)
class OrderChanged:
    notification_id: str
    seller_id: str
    marketplace_id: str
    amazon_order_id: str
    change_type: str  # OrderStatusChange, BuyerRequestedChange, DeliveryTipChange
    order_status: str | None
    buyer_requested_cancel: bool

    kind = ORDER_CHANGE


@dataclass(frozen=True)
class FeedFinished:
    notification_id: str
    seller_id: str | None  # absent for vendor accounts (only accountId): then the feed id alone names it
    feed_id: str
    feed_type: str
    processing_status: str

    kind = FEED_PROCESSING_FINISHED


def notification_type(body: object) -> str | None:
    """The notification's type, whichever casing its shape uses; None when there is none to read."""
    if not isinstance(body, dict):
        return None
    value = body.get("NotificationType", body.get("notificationType"))
    return value if isinstance(value, str) else None


def parse_notification(raw: str) -> OrderChanged | FeedFinished:
    """The notification a message body holds; MalformedNotification for anything else (a foreign type included)."""
    if len(raw) > MAX_BODY_CHARACTERS:
        raise MalformedNotification("body larger than any SQS message")
    try:
        body = json.loads(raw)
    except ValueError:
        raise MalformedNotification("body is not JSON") from None
    kind = notification_type(body)
    try:
        if kind == ORDER_CHANGE:
            data = OrderChangeSchema().load(body)
            change = data["Payload"]["OrderChangeNotification"]
            summary = change["Summary"]
            return OrderChanged(
                notification_id=data["NotificationMetadata"]["NotificationId"],
                seller_id=change["SellerId"],
                marketplace_id=summary["MarketplaceId"],
                amazon_order_id=change["AmazonOrderId"],
                change_type=change["OrderChangeType"],
                order_status=summary["OrderStatus"],
                buyer_requested_cancel=any(item["IsBuyerRequestedCancel"] for item in summary["OrderItems"]),
            )
        if kind == FEED_PROCESSING_FINISHED:
            data = FeedProcessingFinishedSchema().load(body)
            feed = data["payload"]["feedProcessingFinishedNotification"]
            return FeedFinished(
                notification_id=data["notificationMetadata"]["notificationId"],
                seller_id=feed["sellerId"],
                feed_id=feed["feedId"],
                feed_type=feed["feedType"],
                processing_status=feed["processingStatus"],
            )
    except ValidationError as exc:
        raise MalformedNotification(f"{kind}: {_fields_of(exc.messages)}") from None
    raise MalformedNotification(f"not a notification the bridge subscribes to (type {str(kind)[:60]!r})")


def _fields_of(messages: object, prefix: str = "") -> str:
    """Which fields failed (``Payload.OrderChangeNotification.SellerId``), not the values that were sent."""
    if not isinstance(messages, dict):
        return prefix or "body"
    names = [_fields_of(value, f"{prefix}.{key}" if prefix else str(key)) for key, value in messages.items()]
    return ", ".join(sorted(names))[:300]
