"""Amazon's notifications as the bridge reads them (marshmallow schemas of both shapes), and the stand-in's
notifications checked against Amazon's published JSON schemas, so that the two sides cannot agree on a wrong shape."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import jsonschema
import pytest

from bridge.clients.notification_messages import (
    FeedFinished,
    MalformedNotification,
    OrderChanged,
    parse_notification,
)
from bridge.pipeline.notification_inbox import long_poll_seconds
from standins.amazon.feeds import FeedService, StandInFeed
from standins.amazon.notifications import NotificationService
from standins.amazon.orders import StandInOrder
from tests.reference import reference


def _service() -> tuple[NotificationService, StandInOrder, StandInFeed]:
    order = StandInOrder("111-1234567-7654321", "A2SELLERUS", "ATVPDKIKX0DER", item_ids=["12345678901234"])
    changed = threading.Condition(threading.RLock())
    feeds = FeedService({order.order_id: order}, changed)
    feed = StandInFeed("50001020001", "A2SELLERUS", "POST_ORDER_ACKNOWLEDGEMENT_DATA", ["ATVPDKIKX0DER"], "doc", b"",
                       0.0, status="DONE", result_document_id="amzn1.tortuga.4.na.result")  # fmt: skip
    return NotificationService({order.order_id: order}, feeds, changed), order, feed


def test_an_order_change_is_read_from_amazons_pascal_case_shape() -> None:
    service, order, _ = _service()
    order.buyer_requested_cancel = True
    body = service.order_change(order, "BuyerRequestedChange", "Buyer Requested Cancel", notification_id="n-1")
    assert parse_notification(json.dumps(body)) == OrderChanged(
        notification_id="n-1", seller_id="A2SELLERUS", marketplace_id="ATVPDKIKX0DER",
        amazon_order_id=order.order_id, change_type="BuyerRequestedChange", order_status="Unshipped",
        buyer_requested_cancel=True,
    )  # fmt: skip


def test_a_finished_feed_is_read_from_amazons_camel_case_shape() -> None:
    service, _, feed = _service()
    body = service.feed_finished(feed, notification_id="n-2")
    assert parse_notification(json.dumps(body)) == FeedFinished(
        notification_id="n-2", seller_id="A2SELLERUS", feed_id="50001020001",
        feed_type="POST_ORDER_ACKNOWLEDGEMENT_DATA", processing_status="DONE",
    )  # fmt: skip


def test_what_amazon_adds_later_is_ignored_and_a_vendor_feed_has_no_seller() -> None:
    service, _, feed = _service()
    body = service.feed_finished(feed)
    body["payload"]["feedProcessingFinishedNotification"].pop("sellerId")
    body["somethingNew"] = {"x": 1}
    assert parse_notification(json.dumps(body)).seller_id is None


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        ("not json at all", "not JSON"),
        ("[1, 2]", "not a notification the bridge subscribes to"),
        (json.dumps({"NotificationType": "ANY_OFFER_CHANGED", "Payload": {}}), "type 'ANY_OFFER_CHANGED'"),
        (json.dumps({"NotificationType": "ORDER_CHANGE", "Payload": {"OrderChangeNotification": {}},
                     "NotificationMetadata": {"NotificationId": "n"}}),
         "Payload.OrderChangeNotification.AmazonOrderId"),
        (json.dumps({"notificationType": "FEED_PROCESSING_FINISHED", "payload": {},
                     "notificationMetadata": {}}), "notificationMetadata.notificationId"),
        ("x" * 300_000, "larger than any SQS message"),
    ],
)  # fmt: skip
def test_anything_else_is_malformed_and_says_which_fields_not_what_was_sent(raw: str, said: str) -> None:
    with pytest.raises(MalformedNotification) as caught:
        parse_notification(raw)
    assert said in str(caught.value)
    assert "A2SELLERUS" not in str(caught.value)


def test_an_empty_notification_id_is_malformed() -> None:
    service, order, _ = _service()
    body = service.order_change(order, "OrderStatusChange", "Seller Canceled")
    body["NotificationMetadata"]["NotificationId"] = ""
    with pytest.raises(MalformedNotification, match="NotificationId"):
        parse_notification(json.dumps(body))


def test_the_long_poll_is_the_idle_wait_in_whole_seconds_from_1_to_20() -> None:
    assert [long_poll_seconds(s) for s in (0.01, 2, 2.4, 20, 60)] == [1, 2, 2, 20, 20]


def test_the_stand_ins_notifications_follow_amazons_published_schemas() -> None:
    folder = reference("amazon", "notifications")
    order_schema = json.loads((folder / "OrderChangeNotification.json").read_text(encoding="utf-8"))
    feed_schema = json.loads((folder / "FeedProcessingFinishedNotification.json").read_text(encoding="utf-8"))
    service, order, feed = _service()
    order.status, order.cancelled_by, order.updated = "CANCELLED", "MERCHANT", datetime.now(UTC)
    for change in ("OrderStatusChange", "BuyerRequestedChange"):
        jsonschema.validate(service.order_change(order, change, "Seller Canceled"), order_schema)
    jsonschema.validate(service.feed_finished(feed), feed_schema)
    for example in order_schema["examples"]:  # and the bridge reads Amazon's own examples
        assert isinstance(parse_notification(json.dumps(example)), OrderChanged)
    for example in feed_schema["examples"]:
        assert isinstance(parse_notification(json.dumps(example)), FeedFinished)
