"""The bridge's Prometheus metrics: what it did (counters, histograms), recorded where it happens.

Every process records its own; in prometheus_client's multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, set by
``bridge.process`` before this module is first imported) gunicorn's workers and the pipeline worker write them to
files in one directory, and ``/metrics`` adds them up. What the database knows (requests by state, the oldest open
one, how fresh each mirror is) is read at scrape time instead, so it is right whichever process changed it.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector

WEBHOOK_REQUESTS = Counter(
    "bridge_webhook_requests",
    "Commerce's cancel hooks answered, by hook (before, after), the bridge's decision and the op answered",
    ["hook", "decision", "op"],
)
WEBHOOK_DURATION = Histogram(
    "bridge_webhook_duration_seconds",
    "Time from a hook's arrival to its answer, by hook",
    ["hook"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0),
)
SPAPI_CALLS = Counter("bridge_spapi_calls", "Selling Partner API calls sent, by operation", ["operation"])
SPAPI_THROTTLED = Counter(
    "bridge_spapi_throttled", "Selling Partner API calls Amazon answered with 429, by operation", ["operation"]
)
# The outcome label of bridge_commerce_calls_total: an answer (ok, not_found, rejected: another 4xx, unavailable:
# 5xx), or none (timeout, no_connection, not_sent).
COMMERCE_CALL_OUTCOMES = ("ok", "not_found", "rejected", "unavailable", "timeout", "no_connection", "not_sent")
COMMERCE_CALLS = Counter(
    "bridge_commerce_calls", f"Magento REST API calls by outcome: {', '.join(COMMERCE_CALL_OUTCOMES)}", ["outcome"]
)
# Feeds followed at Amazon: one count per getFeed the worker made for a submitted feed, by what it learned.
FEED_POLL_RESULTS = ("in_progress", "done", "failed", "error")
FEED_POLLS = Counter(
    "bridge_feed_polls",
    f"getFeed polls of feeds Amazon is processing, by result: {', '.join(FEED_POLL_RESULTS)} (FATAL or CANCELLED)",
    ["result"],
)

# Amazon's notifications through the SQS queue (BRIDGE_SQS_QUEUE_URL), counted by the worker that read them. The type
# label is ORDER_CHANGE or FEED_PROCESSING_FINISHED; received also counts "other" (a foreign or unreadable message).
NOTIFICATIONS_RECEIVED = Counter(
    "bridge_notifications_received", "Messages received from the notification queue, by notification type", ["type"]
)
NOTIFICATIONS_PROCESSED = Counter(
    "bridge_notifications_processed", "Notifications acted on and deleted from the queue, by type", ["type"]
)
NOTIFICATIONS_DUPLICATES = Counter(
    "bridge_notifications_duplicates",
    "Notifications that brought nothing new (redelivered, or the same change under another id), by type",
    ["type"],
)
NOTIFICATIONS_MALFORMED = Counter(
    "bridge_notifications_malformed", "Messages that were no notification the bridge reads: logged and deleted"
)
NOTIFICATION_QUEUE_FAILURES = Counter(
    "bridge_notification_queue_failures", "Receives and deletes the queue did not answer: the worker polls meanwhile"
)
NOTIFICATIONS_LIVE = Gauge(
    "bridge_notifications_live", "1 while the queue answered the worker's last receive, else 0",
    multiprocess_mode="livemax",
)  # fmt: skip
NOTIFICATION_QUEUE_AGE = Gauge(
    "bridge_notification_queue_oldest_age_seconds",
    "Age of the oldest message the worker's last receive got (from SentTimestamp; 0 when it got none)",
    multiprocess_mode="livemax",
)


def scrape_registry(*extra: Collector) -> CollectorRegistry:
    """A registry for one scrape: every process's recorded metrics (or this process's, outside multiprocess mode)
    and the ``extra`` collectors, which read the database at scrape time."""
    registry = CollectorRegistry(auto_describe=False)  # collectors without describe(): names are not checked
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(REGISTRY)
    for collector in extra:
        registry.register(collector)
    return registry
