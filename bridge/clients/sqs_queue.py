"""The Amazon SQS queue Amazon's SP-API notifications arrive in (``BRIDGE_SQS_QUEUE_URL``), read with boto3.

boto3's standard credential chain applies (environment, shared files, the instance's or task's role) and it honours
``AWS_ENDPOINT_URL_SQS`` (a local SQS-compatible endpoint). The bridge needs ``sqs:ReceiveMessage``,
``sqs:DeleteMessage`` and ``sqs:GetQueueAttributes`` on the queue, nothing else. Every failure to reach the queue
(no network, no credentials, no permission, no such queue) is one ``QueueUnreachable``: the worker then falls back
to polling and tries the queue again later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

MAX_WAIT_SECONDS = 20  # SQS's longest long poll
MAX_MESSAGES = 10  # SQS's most per receive
DEFAULT_REGION = "us-east-1"  # a queue URL without a region (a local endpoint): any region will do
_REGION_IN_URL = re.compile(r"^https://sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?/")


class QueueUnreachable(Exception):
    """The queue could not be read or changed now; the message says why, without credentials."""


@dataclass(frozen=True)
class QueueMessage:
    """One received message: its body is the notification's JSON, as Amazon sent it."""

    message_id: str
    receipt_handle: str = ""
    body: str = ""
    sent_at: float | None = None  # SentTimestamp, epoch seconds


def region_of(queue_url: str) -> str:
    """The AWS region a queue URL names (``https://sqs.eu-west-1.amazonaws.com/...``), else the default."""
    match = _REGION_IN_URL.match(queue_url)
    return match.group(1) if match else DEFAULT_REGION


def _why(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'error')}: {error.get('Message', '')}".strip(": ")
    return exc.__class__.__name__


class SqsQueue:
    """ReceiveMessage, DeleteMessage and GetQueueAttributes on one queue."""

    def __init__(self, queue_url: str, client: Any | None = None) -> None:
        self.queue_url = queue_url
        # Short connect timeout and few retries: an unreachable queue must cost the worker seconds, not minutes.
        config = Config(connect_timeout=5, read_timeout=MAX_WAIT_SECONDS + 10, retries={"max_attempts": 2})
        self._client = client or boto3.client("sqs", region_name=region_of(queue_url), config=config)

    def receive(self, wait_seconds: int) -> list[QueueMessage]:
        """Up to ten messages, waiting up to ``wait_seconds`` (0 to 20) for the first to arrive."""
        try:
            answer = self._client.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=MAX_MESSAGES,
                WaitTimeSeconds=max(0, min(MAX_WAIT_SECONDS, wait_seconds)),
                MessageSystemAttributeNames=["SentTimestamp"],
            )
        except (BotoCoreError, ClientError) as exc:
            raise QueueUnreachable(f"receive failed ({_why(exc)})") from None
        messages = []
        for item in answer.get("Messages", []):
            sent = (item.get("Attributes") or {}).get("SentTimestamp")
            messages.append(
                QueueMessage(
                    message_id=str(item.get("MessageId", "")),
                    receipt_handle=str(item.get("ReceiptHandle", "")),
                    body=str(item.get("Body", "")),
                    sent_at=int(sent) / 1000 if sent and str(sent).isdigit() else None,
                )
            )
        return messages

    def delete(self, message: QueueMessage) -> None:
        try:
            self._client.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message.receipt_handle)
        except (BotoCoreError, ClientError) as exc:
            raise QueueUnreachable(f"delete failed ({_why(exc)})") from None

    def arn(self) -> str:
        """The queue's ARN, which ``createDestination`` names it by."""
        try:
            answer = self._client.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
        except (BotoCoreError, ClientError) as exc:
            raise QueueUnreachable(f"GetQueueAttributes failed ({_why(exc)})") from None
        return str(answer["Attributes"]["QueueArn"])
