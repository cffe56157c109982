"""Notifications API v1: the SQS destination (the application's, grantless) and each seller's subscriptions.

Every operation allows 1 request per second, burst 5 (kept in the shared rate limiter). ``createDestination`` and
``getDestinations`` take a ``client_credentials`` token of scope ``sellingpartnerapi::notifications``; the
subscriptions take the seller's own token. Amazon answers 409 when what is asked for exists already: the callers
then look it up, so that asking again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marshmallow import fields

from bridge.clients.spapi import AmazonAnswer, SpApiClient, load_answer
from bridge.clients.spapi_operations import (
    CREATE_DESTINATION,
    CREATE_SUBSCRIPTION,
    GET_DESTINATIONS,
    GET_SUBSCRIPTION,
)
from bridge.deadline import Deadline
from bridge.domain.stores import Store

NOTIFICATIONS_SCOPE = "sellingpartnerapi::notifications"
PAYLOAD_VERSIONS = {"ORDER_CHANGE": "1.0", "FEED_PROCESSING_FINISHED": "2020-09-04"}


class _SqsSchema(AmazonAnswer):
    arn = fields.String(required=True)


class _ResourceSchema(AmazonAnswer):
    sqs = fields.Nested(_SqsSchema, load_default=None, allow_none=True)


class _DestinationSchema(AmazonAnswer):
    destinationId = fields.String(required=True)
    name = fields.String(required=True)
    resource = fields.Nested(_ResourceSchema, load_default=dict)


class _DestinationAnswerSchema(AmazonAnswer):
    payload = fields.Nested(_DestinationSchema, required=True)


class _DestinationsAnswerSchema(AmazonAnswer):
    payload = fields.List(fields.Nested(_DestinationSchema), required=True)


class _SubscriptionSchema(AmazonAnswer):
    subscriptionId = fields.String(required=True)
    payloadVersion = fields.String(required=True)
    destinationId = fields.String(required=True)


class _SubscriptionAnswerSchema(AmazonAnswer):
    payload = fields.Nested(_SubscriptionSchema, required=True)


@dataclass(frozen=True)
class Destination:
    destination_id: str
    name: str
    sqs_arn: str | None  # None: an EventBridge destination


@dataclass(frozen=True)
class Subscription:
    notification_type: str
    subscription_id: str
    destination_id: str
    payload_version: str


def _destination(data: dict[str, Any]) -> Destination:
    sqs = (data.get("resource") or {}).get("sqs")
    return Destination(data["destinationId"], data["name"], sqs["arn"] if sqs else None)


class NotificationsApi:
    def __init__(self, client: SpApiClient) -> None:
        self._client = client

    def create_destination(self, region_store: Store, name: str, sqs_arn: str, deadline: Deadline) -> Destination:
        """Grantless; ``region_store`` only says which regional endpoint. 409 when the ARN has a destination."""
        body = self._client.call(
            region_store, CREATE_DESTINATION, deadline,
            json_body={"name": name, "resourceSpecification": {"sqs": {"arn": sqs_arn}}},
            grantless_scope=NOTIFICATIONS_SCOPE, idempotent=False,
        )  # fmt: skip
        return _destination(load_answer(_DestinationAnswerSchema(), body, "createDestination")["payload"])

    def get_destinations(self, region_store: Store, deadline: Deadline) -> list[Destination]:
        body = self._client.call(region_store, GET_DESTINATIONS, deadline, grantless_scope=NOTIFICATIONS_SCOPE)
        return [_destination(d) for d in load_answer(_DestinationsAnswerSchema(), body, "getDestinations")["payload"]]

    def create_subscription(
        self, store: Store, notification_type: str, destination_id: str, deadline: Deadline
    ) -> Subscription:
        """The seller's subscription to one type; 409 when the seller has one already."""
        body = self._client.call(
            store, CREATE_SUBSCRIPTION, deadline,
            path_params={"notificationType": notification_type},
            json_body={"payloadVersion": PAYLOAD_VERSIONS[notification_type], "destinationId": destination_id},
            idempotent=False,
        )  # fmt: skip
        return self._subscription(notification_type, body, "createSubscription")

    def get_subscription(self, store: Store, notification_type: str, deadline: Deadline) -> Subscription:
        """The seller's subscription to one type; NotFound when there is none."""
        body = self._client.call(store, GET_SUBSCRIPTION, deadline, path_params={"notificationType": notification_type})
        return self._subscription(notification_type, body, "getSubscription")

    @staticmethod
    def _subscription(notification_type: str, body: Any, what: str) -> Subscription:
        data = load_answer(_SubscriptionAnswerSchema(), body, what)["payload"]
        return Subscription(notification_type, data["subscriptionId"], data["destinationId"], data["payloadVersion"])
