"""The worker's end of the notification queue: what it received and has yet to act on, and whether the queue answers.

The worker long-polls the queue when it has nothing else to do (``bridge.pipeline.worker``); the messages wait here
for the next round's first step (``follow_notifications``), which deletes each once what it caused is recorded. A
queue that does not answer is tried again after a back-off (doubling up to five minutes) while the worker polls
Amazon as it does without notifications; it never stops the worker.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable

from bridge.clients.sqs_queue import MAX_WAIT_SECONDS, QueueMessage, QueueUnreachable, SqsQueue
from bridge.domain.retry_policy import RetryPolicy
from bridge.metrics import NOTIFICATION_QUEUE_AGE, NOTIFICATION_QUEUE_FAILURES, NOTIFICATIONS_LIVE

log = logging.getLogger(__name__)
RETRY_CAP_SECONDS = 300.0  # an unreachable queue is tried again at least every five minutes
REMEMBERED_IDS = 10_000  # notification ids acted on lately, to spot a redelivery without re-reading the order


def long_poll_seconds(idle_seconds: float) -> int:
    """The long poll that replaces the worker's idle wait: that wait in whole seconds, 1 to SQS's 20."""
    return max(1, min(MAX_WAIT_SECONDS, round(idle_seconds)))


class NotificationInbox:
    def __init__(self, queue: SqsQueue, retry: RetryPolicy, clock: Callable[[], float] = time.time) -> None:
        self.queue = queue
        self.live = False  # the queue answered the last receive
        self._retry = retry
        self._clock = clock
        self._pending: list[QueueMessage] = []
        self._failures = 0
        self._retry_at = 0.0
        self._last_receive = 0.0
        self._acted_on: OrderedDict[str, None] = OrderedDict()

    def receive(self, wait_seconds: int) -> bool:
        """Take what the queue has, waiting up to ``wait_seconds`` for it; False when the queue could not be asked
        (not answering, or resting after a failure), and the caller must wait some other way."""
        if self._clock() < self._retry_at:
            return False
        try:
            messages = self.queue.receive(wait_seconds)
        except QueueUnreachable as exc:
            self.failed(str(exc))
            return False
        if not self.live:
            log.info("notification queue answering: following Amazon's notifications")
        self.live, self._failures, self._last_receive = True, 0, self._clock()
        NOTIFICATIONS_LIVE.set(1)
        sent = [message.sent_at for message in messages if message.sent_at is not None]
        NOTIFICATION_QUEUE_AGE.set(max(0.0, self._clock() - min(sent)) if sent else 0.0)
        self._pending.extend(messages)
        return True

    def due_for_a_look(self, idle_seconds: float) -> bool:
        """A busy worker does not idle, so it looks at the queue (without waiting) at least this often."""
        return not self._pending and self._clock() - self._last_receive >= idle_seconds

    def take(self) -> list[QueueMessage]:
        taken, self._pending = self._pending, []
        return taken

    def delete(self, message: QueueMessage) -> None:
        """Best effort: a message not deleted comes back after the queue's visibility timeout, and is then seen as
        a duplicate."""
        try:
            self.queue.delete(message)
        except QueueUnreachable as exc:
            self.failed(str(exc))

    def acted_on(self, notification_id: str) -> bool:
        return notification_id in self._acted_on

    def remember(self, notification_id: str) -> None:
        self._acted_on[notification_id] = None
        while len(self._acted_on) > REMEMBERED_IDS:
            self._acted_on.popitem(last=False)

    def failed(self, reason: str) -> None:
        """The queue did not answer: poll Amazon meanwhile, and try the queue again after a back-off."""
        self._failures += 1
        delay = self._retry.delay(self._failures)
        self._retry_at = self._clock() + delay
        self.live = False
        NOTIFICATIONS_LIVE.set(0)
        NOTIFICATION_QUEUE_FAILURES.inc()
        log.warning(
            "notification queue unreachable: polling Amazon until it answers",
            extra={"error": reason[:300], "retry_in_seconds": round(delay, 1)},
        )


def inbox_for(queue_url: str, retry_backoff_seconds: float) -> NotificationInbox:
    return NotificationInbox(SqsQueue(queue_url), RetryPolicy(retry_backoff_seconds, RETRY_CAP_SECONDS))
