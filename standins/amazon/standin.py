"""Stand-in for Login with Amazon and the Selling Partner API (Orders v2026-01-01, Feeds 2021-06-30).

Follows ``reference/amazon``: the LWA token exchange and its ``invalid_grant``/``invalid_client`` errors,
``x-amz-access-token`` checks, ``{"errors":[...]}`` envelopes with ``x-amzn-RequestId``, ``includedData``
filtering, and Amazon's published quotas as token buckets per seller and operation, answering 429
``QuotaExceeded`` when the caller goes over. The Feeds API (documents, presigned uploads, feeds, processing
reports that really cancel the stand-in's orders) is the blueprint in ``standins.amazon.feeds``; this class exposes
its settings, faults and counters for tests (see ``AmazonStandIn``).
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar

from flask import Flask, Response, g, jsonify, request

from standins.amazon import feeds, notifications
from standins.amazon.contract import (
    ACCESS_DENIED_MESSAGE,
    GATE_EXTENSION,
    GET_MARKETPLACE_PARTICIPATIONS,
    GET_ORDER,
    INTERNAL_FAILURE_MESSAGE,
    MARKETPLACES,
    PUBLISHED_QUOTAS,
    QUOTA_EXCEEDED_MESSAGE,
    SEARCH_ORDERS,
    error_envelope,
)
from standins.amazon.feeds import FeedService
from standins.amazon.notifications import NOTIFICATIONS_SCOPE, NotificationService
from standins.amazon.orders import FULFILLMENT_STATUSES, INCLUDED_DATA, StandInOrder, iso_time
from standins.amazon.token_bucket import TokenBucket
from standins.faults import Fault, FaultPlan, Latency

TOKEN_LIFETIME = 3600
T = TypeVar("T")


class _FeedSetting(Generic[T]):
    """An ``AmazonStandIn`` attribute that reads and writes an attribute (by default the same-named one) of its
    ``feed_service``, so settings can be changed after the stand-in is built (e.g. by a test using the fixture)."""

    def __init__(self, target: str | None = None) -> None:
        self.name = target or ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = self.name or name

    def __get__(self, instance: Any, owner: type | None = None) -> T:
        if instance is None:
            return self  # type: ignore[return-value]
        return getattr(instance.feed_service, self.name)

    def __set__(self, instance: Any, value: T) -> None:
        setattr(instance.feed_service, self.name, value)


class AmazonStandIn:
    """State and behaviour of the stand-in; ``app`` is the WSGI app to serve.

    For tests and benchmarks, besides ``add_seller``/``add_order``/``set_status``:

    - ``faults`` (FaultPlan) by operation name: ``getOrder``, ``searchOrders``, ``createFeedDocument``,
      ``createFeed``, ``getFeed``, ``getFeeds``, ``getFeedDocument``, ``cancelFeed``, ``uploadFeedDocument`` (the
      presigned PUT), ``downloadFeedDocument`` (the presigned GET), or ``*``; ``status`` (429 answers
      QuotaExceeded), ``delay`` (before handling), ``delay_after`` (handle, then hold the answer back);
    - ``calls`` / ``throttled`` Counters by operation name, ``token_exchanges``;
    - Feeds settings (read/write; see ``FeedService``): ``feed_processing_delay`` (seconds, default 0),
      ``xsd_dir`` (Path of reference/amazon/xsd, or None to skip XSD validation), ``report_charset`` ("UTF-8"),
      ``gzip_reports`` (False), ``document_url_lifetime`` (300 s);
    - ``cancel_messages``: Counter of cancel (StatusCode Failure) messages per AmazonOrderID over all accepted feeds;
    - ``fail_next_feeds(n, apply_messages=False)``, ``cancel_next_feeds(n)``: outcomes of the next feeds processed;
    - ``process_due_feeds(force=False)``: process feeds whose delay passed (all with ``force``), returns their ids;
    - ``wait_for_feeds(n, timeout)``, ``wait_until(predicate, timeout)``: block without sleeping;
    - ``notifications`` (``NotificationService``): the Notifications API's destinations and subscriptions, and the
      notifier that sends ORDER_CHANGE and FEED_PROCESSING_FINISHED to SQS once a seller subscribed (its
      ``sqs_endpoint_url``, ``sent``, ``deliver``; ``stop()`` it when done);
    - ``feed_service.feeds`` / ``feed_service.documents``: the feeds and documents themselves.
    """

    feed_processing_delay = _FeedSetting[float]("processing_delay")
    xsd_dir = _FeedSetting["Path | None"]()
    report_charset = _FeedSetting[str]()
    gzip_reports = _FeedSetting[bool]()
    document_url_lifetime = _FeedSetting[int]()

    def __init__(
        self,
        client_id: str = "amzn1.application-oa2-client.standin",
        client_secret: str = "standin-secret",
        *,
        feed_processing_delay: float = 0.0,
        xsd_dir: Path | None = None,
        report_charset: str = "UTF-8",
        gzip_reports: bool = False,
        quotas: dict[str, tuple[float, int]] | None = None,
    ) -> None:
        self.client_id = client_id
        # Amazon's published defaults; a test may grant higher limits, as Amazon does for some applications.
        self.quotas = {**PUBLISHED_QUOTAS, **(quotas or {})}
        self.client_secret = client_secret
        self.faults = FaultPlan()
        self.latency = Latency()  # every call's round trip, for benchmarks
        self._lock = threading.RLock()
        self.changed = threading.Condition(self._lock)  # notified on every call and feed state change
        self._sellers_by_refresh_token: dict[str, str] = {}
        self.participations: dict[str, list[str]] = {}  # seller -> marketplace ids it sells in
        self._access_tokens: dict[str, tuple[str, float]] = {}
        self.orders: dict[str, StandInOrder] = {}
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self.calls: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()  # 429s the quota caused (never injected ones)
        self.token_exchanges = 0
        self.feed_service = FeedService(
            self.orders,
            self.changed,
            processing_delay=feed_processing_delay,
            xsd_dir=xsd_dir,
            report_charset=report_charset,
            gzip_reports=gzip_reports,
        )
        self.notifications = NotificationService(self.orders, self.feed_service, self.changed)
        self.app = self._build_app()

    # --- set-up, for tests and the demo -------------------------------------------------------------------
    def add_seller(self, seller_id: str, refresh_token: str, marketplaces: Iterable[str] | None = None) -> None:
        """A seller who authorized the app (by its refresh token), selling in ``marketplaces`` (every one the
        stand-in knows, by default)."""
        with self._lock:
            self._sellers_by_refresh_token[refresh_token] = seller_id
            self.participations[seller_id] = list(MARKETPLACES if marketplaces is None else marketplaces)

    def add_order(self, order: StandInOrder) -> StandInOrder:
        if not order.item_ids:
            order.item_ids = [f"{secrets.randbelow(10**14):014d}"]
        with self._lock:
            self.orders[order.order_id] = order
        return order

    def set_status(self, order_id: str, status: str) -> None:
        with self._lock:
            order = self.orders[order_id]
            order.status = status
            order.updated = datetime.now(UTC)

    def cancel_outside(self, order_id: str, cancelled_by: str, reason: str) -> None:
        """A cancel made at Amazon without the bridge: by the seller in Seller Central ("MERCHANT"), the buyer
        ("BUYER") or Amazon itself ("AMAZON")."""
        with self._lock:
            order = self.orders[order_id]
            order.status, order.cancelled_by, order.cancel_reason = "CANCELLED", cancelled_by, reason
            order.updated = datetime.now(UTC)

    def request_cancel(self, order_id: str, reason: str) -> None:
        """The buyer asks Amazon to cancel; Amazon records it on the order and updates lastUpdatedTime."""
        with self._lock:
            order = self.orders[order_id]
            order.buyer_requested_cancel, order.buyer_cancel_reason = True, reason
            order.updated = datetime.now(UTC)

    def reset_counters(self) -> None:
        """Forget calls, quotas and pending faults (feed outcomes included); orders and feeds stay."""
        with self._lock:
            self.calls.clear()
            self.throttled.clear()
            self.token_exchanges = 0
            self._buckets.clear()
            self.faults.clear()
            self.feed_service.clear_faults()

    # --- feeds, for tests and benchmarks ------------------------------------------------------------------
    @property
    def cancel_messages(self) -> Counter[str]:
        """Cancel messages (StatusCode Failure) per AmazonOrderID, over every feed createFeed accepted."""
        return self.feed_service.cancel_messages

    def process_due_feeds(self, force: bool = False) -> list[str]:
        """Process the feeds whose ``feed_processing_delay`` has passed (every queued one with ``force``).

        The stand-in also does this at the start of every request. Returns the ids of feeds that finished.
        """
        return self.feed_service.process_due(force=force)

    def fail_next_feeds(self, count: int = 1, *, apply_messages: bool = False) -> None:
        """The next ``count`` feeds processed end FATAL without a result document (cancels applied if asked)."""
        self.feed_service.fail_next_feeds(count, apply_messages=apply_messages)

    def cancel_next_feeds(self, count: int = 1) -> None:
        """The next ``count`` feeds processed end CANCELLED without a result document, nothing applied."""
        self.feed_service.cancel_next_feeds(count)

    def wait_for_feeds(self, count: int, timeout: float = 5.0) -> bool:
        """Block until createFeed has accepted ``count`` feeds in all (before its answer, which may be held
        back by a ``delay_after`` fault); False on timeout."""
        return self.feed_service.wait_for_feeds(count, timeout)

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Block until ``predicate()`` holds, re-checked on every call and feed change; False on timeout.

        E.g. ``amazon.wait_until(lambda: amazon.calls["getFeed"] >= 3)``.
        """
        with self.changed:
            return self.changed.wait_for(predicate, timeout)

    def take_fault(self, operation: str) -> Fault | None:
        """Count a call of ``operation`` and take its next fault: sleeps its ``delay`` now and arranges its
        ``delay_after`` (the answer is held back once the handler is done)."""
        with self.changed:
            self.calls[operation] += 1
            self.changed.notify_all()
        fault = self.faults.take(operation)
        if fault and fault.delay:
            time.sleep(fault.delay)
        if fault and fault.delay_after:
            g.delay_after = fault.delay_after
        return fault

    # --- behaviour ----------------------------------------------------------------------------------------
    def _seller_for(self, access_token: str | None) -> str | None:
        with self._lock:
            entry = self._access_tokens.get(access_token or "")
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def take_quota(self, caller: str, operation: str) -> bool:
        """A token from the caller's bucket (a seller's, or ``application`` for grantless operations); a refusal
        is counted in ``throttled``."""
        if self._take_quota(caller, operation):
            return True
        self.throttled[operation] += 1
        return False

    def _take_quota(self, seller_id: str, operation: str) -> bool:
        with self._lock:
            key = (seller_id, operation)
            if key not in self._buckets:
                rate, burst = self.quotas[operation]
                self._buckets[key] = TokenBucket(rate, burst)
            bucket = self._buckets[key]
        return bucket.take()

    def guard(self, operation: str) -> tuple[str | None, Response | None]:
        """Auth, injected faults and quota, in the order Amazon applies them: the seller, or the refusal."""
        fault = self.take_fault(operation)
        token = request.headers.get("x-amz-access-token")
        if not token:
            return None, error_envelope(
                403, "Unauthorized", ACCESS_DENIED_MESSAGE, "Access token is missing in the request header."
            )
        seller = self._seller_for(token)
        if seller is None:
            return None, error_envelope(
                403,
                "Unauthorized",
                ACCESS_DENIED_MESSAGE,
                "The access token you provided is revoked, malformed or invalid.",
            )
        if fault and fault.status == 429:
            return None, error_envelope(429, "QuotaExceeded", QUOTA_EXCEEDED_MESSAGE)
        if fault and fault.status:
            return None, error_envelope(fault.status, "InternalFailure", INTERNAL_FAILURE_MESSAGE)
        if not self._take_quota(seller, operation):
            self.throttled[operation] += 1
            return None, error_envelope(429, "QuotaExceeded", QUOTA_EXCEEDED_MESSAGE)
        return seller, None

    def with_rate_header(self, response: Response, operation: str) -> Response:
        response.headers["x-amzn-RateLimit-Limit"] = str(self.quotas[operation][0])
        return response

    def _build_app(self) -> Flask:
        app = Flask("amazon_standin")
        app.extensions[GATE_EXTENSION] = self
        app.extensions[feeds.FEEDS_EXTENSION] = self.feed_service
        app.register_blueprint(feeds.blueprint)
        app.extensions[notifications.NOTIFICATIONS_EXTENSION] = self.notifications
        app.register_blueprint(notifications.blueprint)
        standin = self

        @app.before_request
        def _process_due_feeds() -> None:
            standin.latency.wait()
            standin.feed_service.process_due()

        @app.after_request
        def _request_id(response: Response) -> Response:
            if request.path.startswith(("/orders/", "/feeds/", "/sellers/", "/notifications/")):
                response.headers["x-amzn-RequestId"] = str(uuid.uuid4())
            return response

        @app.after_request
        def _delay_after(response: Response) -> Response:
            delay = g.pop("delay_after", 0.0)
            if delay:
                time.sleep(delay)  # the work is done; only the answer is late
            return response

        @app.post("/auth/o2/token")
        def token() -> Response:
            form = request.form
            if form.get("grant_type") not in ("refresh_token", "client_credentials"):
                return _lwa_error("unsupported_grant_type", "Only refresh_token and client_credentials here", 400)
            if form.get("client_id") != standin.client_id or form.get("client_secret") != standin.client_secret:
                return _lwa_error("invalid_client", "Client authentication failed", 401)
            if form.get("grant_type") == "client_credentials":  # grantless: the application's own token
                if form.get("scope") != NOTIFICATIONS_SCOPE:
                    return _lwa_error("invalid_scope", "The requested scope is invalid, unknown, or malformed.", 400)
                with standin._lock:
                    standin.token_exchanges += 1
                grantless = standin.notifications.grantless_token()
                return jsonify({"access_token": grantless, "token_type": "bearer", "expires_in": TOKEN_LIFETIME})
            with standin._lock:
                seller = standin._sellers_by_refresh_token.get(form.get("refresh_token", ""))
                if seller is None:
                    return _lwa_error(
                        "invalid_grant", "The request has an invalid grant parameter : refresh_token", 400
                    )
                access_token = "Atza|" + secrets.token_urlsafe(24)
                standin._access_tokens[access_token] = (seller, time.monotonic() + TOKEN_LIFETIME)
                standin.token_exchanges += 1
            return jsonify({"access_token": access_token, "token_type": "bearer", "expires_in": TOKEN_LIFETIME})

        def seller_and_included(operation: str) -> tuple[str, set[str], Response | None]:
            """The guard, then ``includedData`` checked against the values the Orders model defines."""
            seller, refusal = standin.guard(operation)
            if refusal:
                return "", set(), refusal
            included = {value for value in request.args.get("includedData", "").split(",") if value}
            unknown = included - INCLUDED_DATA
            if unknown:
                message = f"Invalid includedData: {', '.join(sorted(unknown))}"
                return "", included, error_envelope(400, "InvalidInput", message)
            return seller or "", included, None

        @app.get("/orders/2026-01-01/orders/<order_id>")
        def get_order(order_id: str) -> Response:
            seller, included, refusal = seller_and_included(GET_ORDER)
            if refusal:
                return refusal
            with standin._lock:
                order = standin.orders.get(order_id)
                if order is None or order.seller_id != seller:
                    not_found = error_envelope(404, "NotFound", f"Order {order_id} not found.")
                    return standin.with_rate_header(not_found, GET_ORDER)
                body = {"order": order.to_json(included)}
            return standin.with_rate_header(jsonify(body), GET_ORDER)

        @app.get("/sellers/v1/marketplaceParticipations")
        def marketplace_participations() -> Response:
            seller, refusal = standin.guard(GET_MARKETPLACE_PARTICIPATIONS)
            if refusal:
                return refusal
            with standin._lock:
                ids = list(standin.participations.get(seller or "", []))
            payload = []
            for marketplace_id in ids:
                name, country, currency, language = MARKETPLACES.get(marketplace_id, ("Amazon", "", "", ""))
                payload.append(
                    {
                        "marketplace": {
                            "id": marketplace_id, "name": name, "countryCode": country,
                            "defaultCurrencyCode": currency, "defaultLanguageCode": language,
                            "domainName": name.lower(),
                        },
                        "participation": {"isParticipating": True, "hasSuspendedListings": False},
                        "storeName": f"Store of {seller}",
                    }
                )  # fmt: skip
            return standin.with_rate_header(jsonify({"payload": payload}), GET_MARKETPLACE_PARTICIPATIONS)

        @app.get("/orders/2026-01-01/orders")
        def search_orders() -> Response:
            seller, included, refusal = seller_and_included(SEARCH_ORDERS)
            if refusal:
                return refusal
            return standin.with_rate_header(standin._search(seller, included), SEARCH_ORDERS)

        return app

    def _search(self, seller: str, included: set[str]) -> Response:
        args = request.args
        created_after, updated_after = args.get("createdAfter"), args.get("lastUpdatedAfter")
        if bool(created_after) == bool(updated_after):
            return error_envelope(400, "InvalidInput", "Exactly one of createdAfter and lastUpdatedAfter is required.")
        created_before = args.get("createdBefore")
        if created_before and updated_after:
            return error_envelope(400, "InvalidInput", "createdBefore cannot be combined with lastUpdatedAfter.")
        try:
            since = datetime.fromisoformat((created_after or updated_after or "").replace("Z", "+00:00"))
            until = datetime.fromisoformat(created_before.replace("Z", "+00:00")) if created_before else None
            page_size = int(args.get("maxResultsPerPage", "100"))
            offset = int(args.get("paginationToken") or 0)
        except ValueError:
            return error_envelope(400, "InvalidInput", "Invalid date, page size or pagination token.")
        if until is not None and not since <= until <= datetime.now(UTC) - timedelta(minutes=2):
            return error_envelope(
                400, "InvalidInput", "createdBefore must be after createdAfter and two minutes before now."
            )
        if not 1 <= page_size <= 100:
            return error_envelope(400, "InvalidInput", "maxResultsPerPage must be between 1 and 100.")
        statuses = {s for s in args.get("fulfillmentStatuses", "").split(",") if s}
        if statuses - FULFILLMENT_STATUSES:
            return error_envelope(400, "InvalidInput", "Invalid fulfillmentStatuses.")
        marketplaces = {m for m in args.get("marketplaceIds", "").split(",") if m}
        fulfilled_by = {f for f in args.get("fulfilledBy", "").split(",") if f}
        with self._lock:
            matches = [
                o
                for o in sorted(self.orders.values(), key=lambda o: (o.updated, o.order_id))
                if o.seller_id == seller
                and (o.created if created_after else o.updated) >= since
                and (until is None or o.created <= until)
                and (not statuses or o.status in statuses)
                and (not marketplaces or o.marketplace_id in marketplaces)
                and (not fulfilled_by or o.fulfilled_by in fulfilled_by)
            ]
            page = [o.to_json(included) for o in matches[offset : offset + page_size]]
        body: dict[str, Any] = {"orders": page}
        if offset + page_size < len(matches):
            body["pagination"] = {"nextToken": str(offset + page_size)}
        body["lastUpdatedBefore" if updated_after else "createdBefore"] = iso_time(until or datetime.now(UTC))
        return jsonify(body)


def _lwa_error(code: str, description: str, status: int) -> Response:
    response = jsonify({"error": code, "error_description": description})
    response.status_code = status
    return response
