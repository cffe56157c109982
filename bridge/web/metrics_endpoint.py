"""``GET /metrics``: Prometheus text format, behind a bearer token when ``BRIDGE_METRICS_TOKEN`` is set.

The counters come from every process (``bridge.metrics``); the gauges below are read from the database at scrape
time, within a bounded wait, so a scrape never hangs on a database that stopped answering.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from bridge.composition import WebServices
from bridge.domain.states import REQUEST_STATES
from bridge.metrics import scrape_registry
from bridge.web.app_services import current_services, current_watchdog
from bridge.web.health import bearer_allowed
from bridge.web.responses import json_error
from bridge.web.watchdog import TimedOut, Watchdog

blueprint = Blueprint("metrics", __name__)
DATABASE_BUDGET_SECONDS = 2.0  # well inside Prometheus's default 10 s scrape timeout


class DatabaseGauges(Collector):
    """What the database says now: requests by state, the oldest open request, each Amazon mirror's age."""

    def __init__(self, bridge: WebServices, watchdog: Watchdog) -> None:
        self._bridge = bridge
        self._watchdog = watchdog

    def _read(self) -> tuple[dict[str, int], float | None, dict[str, float | None]]:
        queries = self._bridge.request_queries
        return queries.counts_by_state(), queries.oldest_open_since(), self._bridge.mirror.complete_as_of()

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("bridge_database_up", "1 if the database answered this scrape in time, 0 if not")
        try:
            counts, oldest, mirrors = self._watchdog.run(self._read, DATABASE_BUDGET_SECONDS)
        except (TimedOut, SQLAlchemyError):
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        now = time.time()
        by_state = GaugeMetricFamily("bridge_cancel_requests", "Cancel requests by state", labels=["state"])
        for state in sorted(REQUEST_STATES.states):
            by_state.add_metric([state.value], counts.get(state.value, 0))
        yield by_state
        yield GaugeMetricFamily(
            "bridge_oldest_open_request_age_seconds",
            "Age of the oldest cancel request not yet in a final state (0 when none is open)",
            value=0 if oldest is None else max(0.0, now - oldest),
        )
        ages = GaugeMetricFamily(
            "bridge_mirror_age_seconds",
            "Seconds since each store's Amazon order mirror was last complete (+Inf: never yet)",
            labels=["store"],
        )
        for store in self._bridge.settings.stores:
            if store.order_import:
                complete = mirrors.get(store.code)
                ages.add_metric([store.code], math.inf if complete is None else max(0.0, now - complete))
        yield ages


@blueprint.get("/metrics")
def metrics() -> Response:
    bridge = current_services()
    if not bearer_allowed(bridge.settings.metrics.token):
        return json_error(401, "unauthorized", "send the metrics token (BRIDGE_METRICS_TOKEN) as a Bearer token")
    registry = scrape_registry(DatabaseGauges(bridge, current_watchdog()))
    return Response(generate_latest(registry), 200, content_type=CONTENT_TYPE_LATEST)
