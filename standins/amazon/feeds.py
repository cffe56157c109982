"""Feeds API 2021-06-30 for the SP-API stand-in (``reference/amazon/feeds_2021-06-30.json``).

``FeedService`` keeps feed documents and feeds per seller and processes them; ``register_feed_routes`` serves:

- ``POST /feeds/2021-06-30/documents`` (createFeedDocument) -> 201 with a presigned upload URL on this server,
  ``PUT /uploads/<id>?X-Amz-...``: the URL is the credential (no access token), valid ``document_url_lifetime``
  seconds, and the request's ``Content-Type`` must equal, byte for byte, the ``contentType`` declared at creation
  (S3 answers ``403 SignatureDoesNotMatch`` otherwise, ``403 AccessDenied`` "Request has expired" when late);
- ``POST /feeds/2021-06-30/feeds`` (createFeed) -> 202, ``GET .../feeds/<id>`` (getFeed), ``GET .../feeds``
  (getFeeds), ``DELETE .../feeds/<id>`` (cancelFeed, IN_QUEUE only);
- ``GET /feeds/2021-06-30/documents/<id>`` (getFeedDocument) -> presigned download URL ``GET /downloads/<id>``,
  with ``compressionAlgorithm: GZIP`` when reports are gzipped.

Processing is lazy and deterministic: a feed is IN_QUEUE when created, IN_PROGRESS once half of
``processing_delay`` has passed, and is processed (DONE with a processing report, or FATAL/CANCELLED when a test
asked for that) once all of it has passed, checked at the start of every request and by ``process_due``.

Processing a ``POST_ORDER_ACKNOWLEDGEMENT_DATA`` feed: a safe lxml parse (no entities, no network); when
``xsd_dir`` is set, validation against ``amzn-envelope-orders.xsd``; then each ``Message`` with ``StatusCode``
``Failure`` cancels its order if the order belongs to the seller and one of the feed's marketplaces, is
merchant-fulfilled and ``UNSHIPPED``, and the ``Item`` codes are exactly the order's item ids. Everything else is an
``Error`` result in the report. ``ResultMessageCode`` values (Amazon does not publish a full list; these are the
stand-in's, in Amazon's style):

====== ==============================================================================================
5000   the document is not well-formed XML (one result, ``MessageID`` 0)
5001   the document fails the XSD (every message), or has no AmazonEnvelope / a wrong MessageType
5002   ``Header/MerchantIdentifier`` is not the seller who submitted the feed (every message)
5003   duplicate ``MessageID`` in the feed
18028  incomplete or invalid data: missing AmazonOrderID/StatusCode, item codes that are not the order's
13013  the order does not exist for this seller and marketplace
13014  the order is already cancelled
13015  the order has shipped items (SHIPPED, PARTIALLY_SHIPPED)
13016  the order is fulfilled by Amazon
13017  the order is in another status that cannot be cancelled (PENDING, UNFULFILLABLE, ...)
====== ==============================================================================================
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import itertools
import re
import secrets
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, current_app, jsonify, request
from lxml import etree

from standins.amazon.contract import (
    CANCEL_FEED,
    CANCEL_REASONS,
    CREATE_FEED,
    CREATE_FEED_DOCUMENT,
    GET_FEED,
    GET_FEED_DOCUMENT,
    GET_FEEDS,
    error_envelope,
    gate,
)
from standins.amazon.orders import StandInOrder

ORDER_ACKNOWLEDGEMENT_FEED = "POST_ORDER_ACKNOWLEDGEMENT_DATA"
PROCESSING_STATUSES = ("CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE")
TERMINAL_STATUSES = frozenset({"CANCELLED", "DONE", "FATAL"})
UPLOAD = "uploadFeedDocument"  # the presigned PUT: counted in ``calls`` and open to faults under this name
DOWNLOAD = "downloadFeedDocument"  # the presigned GET
DOCUMENT_URL_LIFETIME = 300
ENVELOPE_XSD = "amzn-envelope-orders.xsd"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
AMAZON_ORDER_ID = re.compile(r"\w{3}-\w{7}-\w{7}")
ORDER_ITEM_CODE = re.compile(r"\d{14}")
FEED_ID = re.compile(r"\d{1,20}")
INVALID_DATA = (
    "The data you submitted is incomplete or invalid. For help fixing this, see "
    "http://sellercentral-europe.amazon.com/gp/help/30721"
)

FEEDS_EXTENSION = "amazon_feeds"  # where the app keeps its FeedService
blueprint = Blueprint("feeds", __name__)


def _iso_ms(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _new_document_id() -> str:
    return f"amzn1.tortuga.4.na.{uuid.uuid4()}.T{secrets.token_hex(6).upper()}"


def _safe_parser() -> etree.XMLParser:
    """A parser that never expands entities, loads DTDs or touches the network."""
    return etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False)


@dataclass
class StandInDocument:
    """A feed document: an input the seller uploads, or a processing report the stand-in wrote."""

    document_id: str
    seller_id: str
    content_type: str
    kind: str  # "input" | "result"
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    content: bytes | None = None  # as stored (gzipped when compression is GZIP)
    compression: str | None = None
    uploads: int = 0


@dataclass(frozen=True)
class ReportResult:
    """One ``Result`` element of a processing report."""

    message_id: str
    code: int
    description: str
    order_id: str | None = None
    item_code: str | None = None
    result_code: str = "Error"


@dataclass
class StandInFeed:
    feed_id: str
    seller_id: str
    feed_type: str
    marketplace_ids: list[str]
    input_document_id: str
    content: bytes  # the input document's bytes when createFeed accepted it
    created_at: float  # monotonic, for the processing delay
    feed_options: dict[str, str] = field(default_factory=dict)
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    status: str = "IN_QUEUE"
    started: datetime | None = None
    ended: datetime | None = None
    result_document_id: str | None = None
    report: bytes | None = None  # the processing report, uncompressed, in the report charset
    results: list[ReportResult] = field(default_factory=list)
    messages_processed: int = 0

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "feedId": self.feed_id,
            "feedType": self.feed_type,
            "marketplaceIds": list(self.marketplace_ids),
            "createdTime": _iso_ms(self.created),
            "processingStatus": self.status,
        }
        if self.started:
            body["processingStartTime"] = _iso_ms(self.started)
        if self.ended:
            body["processingEndTime"] = _iso_ms(self.ended)
        if self.result_document_id:
            body["resultFeedDocumentId"] = self.result_document_id
        return body


Owned = TypeVar("Owned", StandInDocument, StandInFeed)


class FeedService:
    """Feed documents, feeds and their processing, for every seller of one stand-in.

    Shares the stand-in's lock (through ``changed``, a Condition on it) and its orders, which processing changes.
    Settings, readable and writable at any time (``AmazonStandIn`` exposes them under the same names):

    - ``processing_delay``: seconds from createFeed until the feed is processed (default 0: at the next request);
      measured from each feed's creation with the current value, so lowering it releases queued feeds;
    - ``xsd_dir``: the directory holding ``amzn-envelope-orders.xsd``; None skips schema validation;
    - ``report_charset``: charset of processing reports (XML declaration and download ``Content-Type``);
    - ``gzip_reports``: gzip processing reports and announce ``compressionAlgorithm: GZIP``;
    - ``document_url_lifetime``: seconds presigned upload/download URLs stay valid (Amazon: 300).
    """

    def __init__(
        self,
        orders: dict[str, StandInOrder],
        changed: threading.Condition,
        *,
        processing_delay: float = 0.0,
        xsd_dir: Path | None = None,
        report_charset: str = "UTF-8",
        gzip_reports: bool = False,
    ) -> None:
        self._orders = orders
        self.changed = changed
        self.processing_delay = processing_delay
        self.xsd_dir = xsd_dir
        self.report_charset = report_charset
        self.gzip_reports = gzip_reports
        self.document_url_lifetime = DOCUMENT_URL_LIFETIME
        self.documents: dict[str, StandInDocument] = {}
        self.feeds: dict[str, StandInFeed] = {}
        self.cancel_messages: Counter[str] = Counter()  # AmazonOrderID -> cancel messages in accepted feeds
        self._pending: list[str] = []
        self._feed_ids = itertools.count(50_001_020_001)
        self._page_tokens: dict[str, tuple[str, dict[str, Any], int]] = {}
        self._signing_key = secrets.token_bytes(32)
        self._schemas: dict[Path, etree.XMLSchema] = {}
        self._fatal_next: list[bool] = []  # one entry per feed to end FATAL: apply its messages first?
        self._cancel_next = 0

    # --- faults -------------------------------------------------------------------------------------------
    def fail_next_feeds(self, count: int = 1, *, apply_messages: bool = False) -> None:
        """The next ``count`` feeds to be processed end FATAL, with no result document.

        With ``apply_messages`` their cancels still take effect first (Amazon: "some, none, or all of the
        operations within the feed may have completed"); by default none does.
        """
        with self.changed:
            self._fatal_next.extend([apply_messages] * count)

    def cancel_next_feeds(self, count: int = 1) -> None:
        """The next ``count`` feeds to be processed end CANCELLED (nothing applied, no result document)."""
        with self.changed:
            self._cancel_next += count

    def clear_faults(self) -> None:
        with self.changed:
            self._fatal_next.clear()
            self._cancel_next = 0

    # --- waiting ------------------------------------------------------------------------------------------
    def wait_for_feeds(self, count: int, timeout: float = 5.0) -> bool:
        """Block until createFeed has accepted at least ``count`` feeds (all sellers); False on timeout."""
        with self.changed:
            return self.changed.wait_for(lambda: len(self.feeds) >= count, timeout)

    # --- documents ----------------------------------------------------------------------------------------
    def create_input_document(self, seller_id: str, content_type: str) -> StandInDocument:
        document = StandInDocument(_new_document_id(), seller_id, content_type, "input")
        with self.changed:
            self.documents[document.document_id] = document
        return document

    def document_for(self, seller_id: str, document_id: str) -> StandInDocument | None:
        return self._owned_by(seller_id, self.documents, document_id)

    def store_upload(self, document_id: str, content: bytes) -> bool:
        with self.changed:
            document = self.documents.get(document_id)
            if document is None or document.kind != "input":
                return False
            document.content = content
            document.uploads += 1
            self.changed.notify_all()
        return True

    def _sign(self, method: str, document_id: str, amz_date: str, expires: str, bound: str) -> str:
        payload = "\n".join((method, document_id, amz_date, expires, bound)).encode("utf-8")
        return hmac.new(self._signing_key, payload, hashlib.sha256).hexdigest()

    def presign(self, host_url: str, method: str, document_id: str, *, bound: str = "", encoding: str = "") -> str:
        """An S3-style presigned URL on this server; ``bound`` is the Content-Type a PUT must carry."""
        now = datetime.now(UTC)
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        expires = str(int(self.document_url_lifetime))
        params = {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": f"AKIASTANDIN/{now:%Y%m%d}/us-east-1/s3/aws4_request",
            "X-Amz-Date": amz_date,
            "X-Amz-Expires": expires,
            "X-Amz-SignedHeaders": "content-type;host" if method == "PUT" else "host",
        }
        if encoding:
            params["response-content-encoding"] = encoding
        params["X-Amz-Signature"] = self._sign(method, document_id, amz_date, expires, bound or encoding)
        prefix = "uploads" if method == "PUT" else "downloads"
        return f"{host_url}{prefix}/{quote(document_id, safe='')}?{urlencode(params)}"

    def check_presigned(self, method: str, document_id: str, bound: str) -> Response | None:
        """None when the request's presigned URL is valid for ``bound``; otherwise S3's XML refusal."""
        args = request.args
        signature, amz_date, expires = args.get("X-Amz-Signature"), args.get("X-Amz-Date"), args.get("X-Amz-Expires")
        if not (signature and amz_date and expires):
            return s3_error(
                403,
                "AccessDenied",
                "Query-string authentication requires the X-Amz-Signature, X-Amz-Date and X-Amz-Expires parameters",
            )
        try:
            signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            lifetime = int(expires)
        except ValueError:
            return s3_error(400, "AuthorizationQueryParametersError", "X-Amz-Date or X-Amz-Expires is malformed.")
        now = datetime.now(UTC)
        if now > signed_at + timedelta(seconds=lifetime):
            return s3_error(
                403,
                "AccessDenied",
                "Request has expired",
                {
                    "X-Amz-Expires": expires,
                    "Expires": (signed_at + timedelta(seconds=lifetime)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "ServerTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                },
            )
        expected = self._sign(method, document_id, amz_date, expires, bound)
        if not hmac.compare_digest(expected, signature):
            string_to_sign = "\n".join((method, f"content-type:{bound}" if method == "PUT" else "", amz_date))
            return s3_error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. "
                "Check your key and signing method.",
                {"StringToSign": string_to_sign, "SignatureProvided": signature},
            )
        return None

    # --- feeds --------------------------------------------------------------------------------------------
    def create_feed(
        self,
        seller_id: str,
        feed_type: str,
        marketplace_ids: list[str],
        document_id: str,
        feed_options: dict[str, str],
    ) -> StandInFeed | str:
        """The new feed, or why the input document cannot be used (for a 400)."""
        with self.changed:
            document = self.documents.get(document_id)
            if document is None or document.seller_id != seller_id or document.kind != "input":
                return f"Feed document {document_id} does not exist."
            if document.content is None:
                return f"Feed document {document_id} has no content: upload it before calling createFeed."
            feed = StandInFeed(
                feed_id=str(next(self._feed_ids)),
                seller_id=seller_id,
                feed_type=feed_type,
                marketplace_ids=list(marketplace_ids),
                input_document_id=document_id,
                content=document.content,
                created_at=time.monotonic(),
                feed_options=dict(feed_options),
            )
            self.feeds[feed.feed_id] = feed
            self._pending.append(feed.feed_id)
            if feed_type == ORDER_ACKNOWLEDGEMENT_FEED:
                self.cancel_messages.update(_cancelled_order_ids(feed.content))
            self.changed.notify_all()
        return feed

    def feed_for(self, seller_id: str, feed_id: str) -> StandInFeed | None:
        return self._owned_by(seller_id, self.feeds, feed_id)

    def _owned_by(self, seller_id: str, records: dict[str, Owned], key: str) -> Owned | None:
        """The record, if it is this seller's: Amazon answers another seller's id as if it did not exist."""
        with self.changed:
            record = records.get(key)
        return record if record is not None and record.seller_id == seller_id else None

    def cancel_feed(self, feed: StandInFeed) -> bool:
        """cancelFeed: only a feed still IN_QUEUE can be cancelled."""
        with self.changed:
            if feed.status != "IN_QUEUE":
                return False
            feed.status = "CANCELLED"
            feed.ended = datetime.now(UTC)
            self._pending.remove(feed.feed_id)
            self.changed.notify_all()
        return True

    def list_feeds(
        self, seller_id: str, filters: dict[str, Any], offset: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of getFeeds, newest first, and the token of the next page if there is one."""
        with self.changed:
            matches = [
                feed
                for feed in sorted(self.feeds.values(), key=lambda f: (f.created, int(f.feed_id)), reverse=True)
                if feed.seller_id == seller_id
                and feed.feed_type in filters["feedTypes"]
                and (not filters["marketplaceIds"] or set(feed.marketplace_ids) & set(filters["marketplaceIds"]))
                and (not filters["processingStatuses"] or feed.status in filters["processingStatuses"])
                and filters["createdSince"] <= feed.created <= filters["createdUntil"]
            ]
            size = filters["pageSize"]
            page = [feed.to_json() for feed in matches[offset : offset + size]]
            token = None
            if offset + size < len(matches):
                token = secrets.token_urlsafe(24)
                self._page_tokens[token] = (seller_id, filters, offset + size)
        return page, token

    def page_token(self, seller_id: str, token: str) -> tuple[dict[str, Any], int] | None:
        with self.changed:
            entry = self._page_tokens.get(token)
        if entry is None or entry[0] != seller_id:
            return None
        return entry[1], entry[2]

    # --- processing ---------------------------------------------------------------------------------------
    def process_due(self, *, force: bool = False) -> list[str]:
        """Move queued feeds along; process those whose delay has passed (all of them with ``force``).

        Returns the ids of the feeds that reached a final status.
        """
        finished: list[str] = []
        with self.changed:
            if not self._pending:
                return finished
            now = time.monotonic()
            moved = False
            for feed_id in list(self._pending):
                feed = self.feeds[feed_id]
                waited = now - feed.created_at
                if force or waited >= self.processing_delay:
                    self._finish(feed)
                    self._pending.remove(feed_id)
                    finished.append(feed_id)
                    moved = True
                elif feed.status == "IN_QUEUE" and waited >= self.processing_delay / 2:
                    feed.status = "IN_PROGRESS"
                    feed.started = datetime.now(UTC)
                    moved = True
            if moved:
                self.changed.notify_all()
        return finished

    def _finish(self, feed: StandInFeed) -> None:
        if self._cancel_next > 0:
            self._cancel_next -= 1
            feed.status = "CANCELLED"
            feed.ended = datetime.now(UTC)
            return
        feed.started = feed.started or datetime.now(UTC)
        if self._fatal_next:
            if self._fatal_next.pop(0) and feed.feed_type == ORDER_ACKNOWLEDGEMENT_FEED:
                self._apply_acknowledgements(feed)
            feed.status = "FATAL"
            feed.ended = datetime.now(UTC)
            return
        if feed.feed_type != ORDER_ACKNOWLEDGEMENT_FEED:
            feed.status = "FATAL"  # the stand-in only knows how to process order acknowledgements
            feed.ended = datetime.now(UTC)
            return
        processed, results = self._apply_acknowledgements(feed)
        feed.messages_processed, feed.results = processed, results
        feed.report = build_processing_report(feed.seller_id, feed.feed_id, processed, results, self.report_charset)
        stored = feed.report
        compression = None
        if self.gzip_reports:
            stored, compression = gzip.compress(feed.report), "GZIP"
        document = StandInDocument(
            _new_document_id(),
            feed.seller_id,
            f"text/xml; charset={self.report_charset}",
            "result",
            content=stored,
            compression=compression,
        )
        self.documents[document.document_id] = document
        feed.result_document_id = document.document_id
        feed.status = "DONE"
        feed.ended = datetime.now(UTC)

    def _schema(self) -> etree.XMLSchema | None:
        if self.xsd_dir is None:
            return None
        path = Path(self.xsd_dir) / ENVELOPE_XSD
        if path not in self._schemas:
            # Parsed from its file path so that the xsd:include siblings resolve.
            self._schemas[path] = etree.XMLSchema(etree.parse(str(path)))
        return self._schemas[path]

    def _apply_acknowledgements(self, feed: StandInFeed) -> tuple[int, list[ReportResult]]:
        """Validate and apply an order acknowledgement feed: (messages processed, Result elements)."""
        try:
            root = etree.fromstring(feed.content, _safe_parser())
        except etree.XMLSyntaxError as exc:
            line, column = exc.position if exc.position else (0, 0)
            detail = f"XML Parsing Fatal Error at Line {line}, Column {column}: {exc.msg}"
            return 0, [ReportResult("0", 5000, detail)]
        messages = [child for child in root if child.tag == "Message"]
        schema = self._schema()
        if schema is not None and not schema.validate(root):
            return len(messages), _schema_failures(messages, list(schema.error_log))
        if root.tag != "AmazonEnvelope" or not messages:
            detail = "The document is not an AmazonEnvelope with at least one Message."
            return len(messages), [ReportResult("0", 5001, detail)]
        message_type = (root.findtext("MessageType") or "").strip()
        if message_type != "OrderAcknowledgement":
            detail = f"MessageType {message_type!r} is not valid for feed type {ORDER_ACKNOWLEDGEMENT_FEED}."
            return len(messages), _every_message(messages, 5001, detail)
        merchant = (root.findtext("Header/MerchantIdentifier") or "").strip()
        if merchant != feed.seller_id:
            detail = (
                f"The MerchantIdentifier {merchant!r} in the feed header does not match the merchant "
                f"{feed.seller_id} that submitted the feed."
            )
            return len(messages), _every_message(messages, 5002, detail)
        results: list[ReportResult] = []
        seen: set[str] = set()
        for message in messages:
            message_id = _message_id(message)
            if message_id in seen:
                order_id = _order_id(message)
                results.append(ReportResult(message_id, 5003, f"Duplicate MessageID {message_id}.", order_id))
                continue
            seen.add(message_id)
            result = self._apply_message(feed, message_id, message.find("OrderAcknowledgement"))
            if result:
                results.append(result)
        return len(messages), results

    def _apply_message(self, feed: StandInFeed, message_id: str, ack: Any) -> ReportResult | None:
        if ack is None:
            return ReportResult(message_id, 18028, INVALID_DATA)
        order_id = (ack.findtext("AmazonOrderID") or "").strip()
        status_code = (ack.findtext("StatusCode") or "").strip()
        if not order_id or status_code not in ("Success", "Failure"):
            return ReportResult(message_id, 18028, INVALID_DATA, order_id or None)
        order = self._orders.get(order_id)
        if order is None or order.seller_id != feed.seller_id or order.marketplace_id not in feed.marketplace_ids:
            detail = f"The order id {order_id} was not found for this merchant in the feed's marketplaces."
            return ReportResult(message_id, 13013, detail, order_id)
        if status_code == "Success":
            return None  # a plain acknowledgement: nothing changes here
        if order.fulfilled_by != "MERCHANT":
            detail = f"Order {order_id} is fulfilled by Amazon; only merchant-fulfilled orders can be cancelled."
            return ReportResult(message_id, 13016, detail, order_id)
        if order.status == "CANCELLED":
            return ReportResult(message_id, 13014, f"Order {order_id} has already been cancelled.", order_id)
        if order.status in ("SHIPPED", "PARTIALLY_SHIPPED"):
            detail = f"Order {order_id} has shipped items and cannot be cancelled."
            return ReportResult(message_id, 13015, detail, order_id)
        if order.status != "UNSHIPPED":
            detail = f"Order {order_id} is {order.status} and cannot be cancelled."
            return ReportResult(message_id, 13017, detail, order_id)
        items = ack.findall("Item")
        codes = [(item.findtext("AmazonOrderItemCode") or "").strip() for item in items]
        for code in codes:
            if code not in order.item_ids:
                detail = f"{INVALID_DATA} (AmazonOrderItemCode {code} is not an item of order {order_id}.)"
                return ReportResult(message_id, 18028, detail, order_id, code or None)
        if codes and sorted(codes) != sorted(order.item_ids):
            missing = sorted(set(order.item_ids) - set(codes))
            detail = (
                f"{INVALID_DATA} (Each item of order {order_id} must be listed exactly once; "
                f"missing or repeated: {', '.join(missing) or 'repeated items'}.)"
            )
            return ReportResult(message_id, 18028, detail, order_id)
        reasons = {(item.findtext("CancelReason") or "").strip() for item in items}
        if reasons - CANCEL_REASONS:  # the XSD refuses these too, when the stand-in has it
            detail = f"{INVALID_DATA} (CancelReason {', '.join(sorted(reasons - CANCEL_REASONS))} is not valid.)"
            return ReportResult(message_id, 18028, detail, order_id)
        reason = ((items[0].findtext("CancelReason") or "").strip() or None) if items else None
        order.status = "CANCELLED"
        order.cancelled_by = "MERCHANT"
        order.cancel_reason = reason
        order.updated = datetime.now(UTC)
        return None


def _message_id(message: Any) -> str:
    text = (message.findtext("MessageID") or "").strip()
    return text if text.isdigit() and len(text) <= 20 else "0"


def _order_id(message: Any) -> str | None:
    text = (message.findtext("OrderAcknowledgement/AmazonOrderID") or "").strip()
    return text or None


def _every_message(messages: list[Any], code: int, detail: str) -> list[ReportResult]:
    return [ReportResult(_message_id(m), code, detail, _order_id(m)) for m in messages] or [
        ReportResult("0", code, detail)
    ]


def _schema_failures(messages: list[Any], errors: list[Any]) -> list[ReportResult]:
    """Every message fails; each names the first schema error inside it, or else the document's first one."""

    def describe(error: Any) -> str:
        return f"XML Parsing Error at Line {error.line}, Column {error.column}: {error.message}"

    starts = [(m.sourceline or 0, index) for index, m in enumerate(messages)]
    own: dict[int, Any] = {}
    for error in errors:
        index = None
        for start, candidate in starts:
            if start <= error.line:
                index = candidate
        if index is not None:
            own.setdefault(index, error)
    first = describe(errors[0]) if errors else "The document does not validate against the schema."
    if not messages:
        return [ReportResult("0", 5001, first)]
    return [
        ReportResult(_message_id(m), 5001, describe(own[i]) if i in own else first, _order_id(m))
        for i, m in enumerate(messages)
    ]


def _cancelled_order_ids(content: bytes) -> list[str]:
    """AmazonOrderIDs of the cancel (StatusCode Failure) messages in a feed, read leniently."""
    try:
        root = etree.fromstring(content, _safe_parser())
    except etree.XMLSyntaxError:
        return []
    found = []
    for message in root.iter("Message"):
        if (message.findtext("OrderAcknowledgement/StatusCode") or "").strip() == "Failure":
            order_id = _order_id(message)
            if order_id:
                found.append(order_id)
    return found


def build_processing_report(
    seller_id: str, transaction_id: str, processed: int, results: list[ReportResult], charset: str = "UTF-8"
) -> bytes:
    """An ``AmazonEnvelope`` ``ProcessingReport`` in the shape of Amazon's (reference/amazon/samples)."""
    root = etree.Element("AmazonEnvelope", nsmap={"xsi": XSI})
    root.set(f"{{{XSI}}}noNamespaceSchemaLocation", "amzn-envelope.xsd")
    header = etree.SubElement(root, "Header")
    etree.SubElement(header, "DocumentVersion").text = "1.02"
    etree.SubElement(header, "MerchantIdentifier").text = seller_id
    etree.SubElement(root, "MessageType").text = "ProcessingReport"
    message = etree.SubElement(root, "Message")
    etree.SubElement(message, "MessageID").text = "1"
    report = etree.SubElement(message, "ProcessingReport")
    etree.SubElement(report, "DocumentTransactionID").text = transaction_id
    etree.SubElement(report, "StatusCode").text = "Complete"
    failed = sum(1 for r in results if r.result_code == "Error")  # one Result per failed message
    warned = sum(1 for r in results if r.result_code == "Warning")
    summary = etree.SubElement(report, "ProcessingSummary")
    etree.SubElement(summary, "MessagesProcessed").text = str(processed)
    etree.SubElement(summary, "MessagesSuccessful").text = str(max(0, processed - failed))
    etree.SubElement(summary, "MessagesWithError").text = str(failed)
    etree.SubElement(summary, "MessagesWithWarning").text = str(warned)
    for result in results:
        element = etree.SubElement(report, "Result")
        etree.SubElement(element, "MessageID").text = result.message_id
        etree.SubElement(element, "ResultCode").text = result.result_code
        etree.SubElement(element, "ResultMessageCode").text = str(result.code)
        etree.SubElement(element, "ResultDescription").text = result.description
        order_ok = bool(result.order_id and AMAZON_ORDER_ID.fullmatch(result.order_id))
        item_ok = bool(result.item_code and ORDER_ITEM_CODE.fullmatch(result.item_code))
        if order_ok or item_ok:  # only values the report schema accepts
            info = etree.SubElement(element, "AdditionalInfo")
            if order_ok:
                etree.SubElement(info, "AmazonOrderID").text = result.order_id
            if item_ok:
                etree.SubElement(info, "AmazonOrderItemCode").text = result.item_code
    return etree.tostring(root, xml_declaration=True, encoding=charset, pretty_print=True)


def s3_error(status: int, code: str, message: str, extra: dict[str, str] | None = None) -> Response:
    """An S3-style XML error, as the presigned upload/download URLs answer."""
    root = etree.Element("Error")
    etree.SubElement(root, "Code").text = code
    etree.SubElement(root, "Message").text = message
    for name, value in (extra or {}).items():
        etree.SubElement(root, name).text = value
    request_id = secrets.token_hex(8).upper()
    etree.SubElement(root, "RequestId").text = request_id
    etree.SubElement(root, "HostId").text = secrets.token_urlsafe(32)
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    response = Response(body, status=status, content_type="application/xml")
    response.headers["x-amz-request-id"] = request_id
    return response


# --- routes ---------------------------------------------------------------------------------------------------
def _split(name: str) -> list[str]:
    return [v for raw in request.args.getlist(name) for v in raw.split(",") if v]


def _parse_time(raw: str) -> datetime:
    moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _service() -> FeedService:
    return current_app.extensions[FEEDS_EXTENSION]


def _presigned_refusal(operation: str, method: str, document_id: str, bound: str) -> Response | None:
    """What S3 answers instead of serving a presigned URL: a bad or expired URL, or a fault a test ordered."""
    fault = gate().take_fault(operation)
    refusal = _service().check_presigned(method, document_id, bound)
    if refusal:
        return refusal
    if fault and fault.status:
        return s3_error(fault.status, "SlowDown" if fault.status == 503 else "InternalError", "Please retry.")
    return None


def invalid(operation: str, details: str, message: str = "Invalid input") -> Response:
    return gate().with_rate_header(error_envelope(400, "InvalidInput", message, details), operation)


def guarded_json(operation: str) -> tuple[str, dict[str, Any], Response | None]:
    """Auth, faults and quota first (as Amazon orders them), then a JSON object body."""
    seller, refusal = gate().guard(operation)
    if refusal:
        return "", {}, refusal
    body, bad = json_object(operation)
    return seller or "", body, bad


def json_object(operation: str) -> tuple[dict[str, Any], Response | None]:
    if request.mimetype != "application/json":
        refusal = error_envelope(
            415,
            "InvalidInput",
            "The request's Content-Type header is invalid.",
            f"Expected application/json, got {request.content_type or 'no Content-Type'}.",
        )
        return {}, refusal
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return {}, invalid(operation, "The request body must be a JSON object.")
    return body, None


@blueprint.post("/feeds/2021-06-30/documents")
def create_feed_document() -> Response:
    operation = CREATE_FEED_DOCUMENT
    seller, body, refusal = guarded_json(operation)
    if refusal:
        return refusal
    content_type = body.get("contentType")
    if not isinstance(content_type, str) or not content_type.strip():
        return invalid(operation, "contentType is required.")
    document = _service().create_input_document(seller or "", content_type)
    url = _service().presign(request.host_url, "PUT", document.document_id, bound=content_type)
    response = jsonify({"feedDocumentId": document.document_id, "url": url})
    response.status_code = 201
    return gate().with_rate_header(response, operation)


@blueprint.put("/uploads/<document_id>")
def upload(document_id: str) -> Response:
    refusal = _presigned_refusal(UPLOAD, "PUT", document_id, request.headers.get("Content-Type", ""))
    if refusal:
        return refusal
    content = request.get_data()
    if not _service().store_upload(document_id, content):
        return s3_error(404, "NoSuchKey", "The specified key does not exist.")
    response = Response(b"", status=200)
    response.headers["ETag"] = f'"{hashlib.md5(content, usedforsecurity=False).hexdigest()}"'
    return response


@blueprint.post("/feeds/2021-06-30/feeds")
def create_feed() -> Response:
    operation = CREATE_FEED
    seller, body, refusal = guarded_json(operation)
    if refusal:
        return refusal
    feed_type, marketplaces = body.get("feedType"), body.get("marketplaceIds")
    document_id, options = body.get("inputFeedDocumentId"), body.get("feedOptions", {})
    if not isinstance(feed_type, str) or not re.fullmatch(r"[A-Z][A-Z0-9_]*", feed_type):
        return invalid(operation, "feedType is required and must be a feed type.")
    if (
        not isinstance(marketplaces, list)
        or not 1 <= len(marketplaces) <= 25
        or not all(isinstance(m, str) and m for m in marketplaces)
    ):
        return invalid(operation, "marketplaceIds must list 1 to 25 marketplace identifiers.")
    if not isinstance(document_id, str) or not document_id:
        return invalid(operation, "inputFeedDocumentId is required.")
    if not isinstance(options, dict) or not all(isinstance(v, str) for v in options.values()):
        return invalid(operation, "feedOptions must map names to strings.")
    feed = _service().create_feed(seller or "", feed_type, marketplaces, document_id, options)
    if isinstance(feed, str):
        return invalid(operation, feed)
    response = jsonify({"feedId": feed.feed_id})
    response.status_code = 202
    return gate().with_rate_header(response, operation)


@blueprint.get("/feeds/2021-06-30/feeds/<feed_id>")
def get_feed(feed_id: str) -> Response:
    operation = GET_FEED
    seller, refusal = gate().guard(operation)
    if refusal:
        return refusal
    if not FEED_ID.fullmatch(feed_id):
        return invalid(operation, f"Invalid feedId {feed_id}.")
    feed = _service().feed_for(seller or "", feed_id)
    if feed is None:
        return gate().with_rate_header(error_envelope(404, "NotFound", f"Feed {feed_id} was not found."), operation)
    with _service().changed:
        body = feed.to_json()
    return gate().with_rate_header(jsonify(body), operation)


@blueprint.delete("/feeds/2021-06-30/feeds/<feed_id>")
def cancel_feed(feed_id: str) -> Response:
    seller, refusal = gate().guard(CANCEL_FEED)
    if refusal:
        return refusal
    if not FEED_ID.fullmatch(feed_id):
        return invalid(CANCEL_FEED, f"Invalid feedId {feed_id}.")
    feed = _service().feed_for(seller or "", feed_id)
    if feed is None:
        return gate().with_rate_header(error_envelope(404, "NotFound", f"Feed {feed_id} was not found."), CANCEL_FEED)
    if not _service().cancel_feed(feed):
        return invalid(CANCEL_FEED, f"Feed {feed_id} is {feed.status}; only IN_QUEUE feeds can be cancelled.")
    return gate().with_rate_header(Response(b"", status=200), CANCEL_FEED)


@blueprint.get("/feeds/2021-06-30/feeds")
def get_feeds() -> Response:
    operation = GET_FEEDS
    seller, refusal = gate().guard(operation)
    if refusal:
        return refusal
    args = request.args
    token = args.get("nextToken")
    if token:
        if set(args) != {"nextToken"}:
            return invalid(operation, "nextToken must be the only parameter when it is given.")
        entry = _service().page_token(seller or "", token)
        if entry is None:
            return invalid(operation, "Invalid nextToken.")
        filters, offset = entry
    else:
        filters_or_error = _feed_filters()
        if isinstance(filters_or_error, str):
            return invalid(operation, filters_or_error)
        filters, offset = filters_or_error, 0
    feeds, next_token = _service().list_feeds(seller or "", filters, offset)
    body: dict[str, Any] = {"feeds": feeds}
    if next_token:
        body["nextToken"] = next_token
    return gate().with_rate_header(jsonify(body), operation)


@blueprint.get("/feeds/2021-06-30/documents/<document_id>")
def get_feed_document(document_id: str) -> Response:
    operation = GET_FEED_DOCUMENT
    seller, refusal = gate().guard(operation)
    if refusal:
        return refusal
    flag = request.args.get("enableContentEncodingUrlHeader", "false").lower()
    if flag not in ("true", "false"):
        return invalid(operation, "enableContentEncodingUrlHeader must be true or false.")
    document = _service().document_for(seller or "", document_id)
    if document is None or document.content is None:
        return gate().with_rate_header(
            error_envelope(404, "NotFound", f"Feed document {document_id} was not found."), operation
        )
    encoding = "gzip" if flag == "true" and document.compression == "GZIP" else ""
    body = {
        "feedDocumentId": document.document_id,
        "url": _service().presign(request.host_url, "GET", document.document_id, encoding=encoding),
    }
    if document.compression:
        body["compressionAlgorithm"] = document.compression
    return gate().with_rate_header(jsonify(body), operation)


@blueprint.get("/downloads/<document_id>")
def download(document_id: str) -> Response:
    encoding = request.args.get("response-content-encoding", "")
    refusal = _presigned_refusal(DOWNLOAD, "GET", document_id, encoding)
    if refusal:
        return refusal
    with _service().changed:
        document = _service().documents.get(document_id)
        content = document.content if document else None
    if document is None or content is None:
        return s3_error(404, "NoSuchKey", "The specified key does not exist.")
    response = Response(content, status=200)
    response.headers["Content-Type"] = document.content_type  # verbatim, e.g. "text/xml; charset=UTF-8"
    if encoding:
        response.headers["Content-Encoding"] = encoding
    response.headers["ETag"] = f'"{hashlib.md5(content, usedforsecurity=False).hexdigest()}"'
    return response


def _feed_filters() -> dict[str, Any] | str:
    """getFeeds' filters from the query string, or what is wrong with them."""
    feed_types = _split("feedTypes")
    if not feed_types:
        return "Either feedTypes or nextToken is required."
    if len(feed_types) > 10:
        return "feedTypes accepts at most 10 values."
    marketplaces = _split("marketplaceIds")
    if len(marketplaces) > 10:
        return "marketplaceIds accepts at most 10 values."
    statuses = _split("processingStatuses")
    unknown = sorted(set(statuses) - set(PROCESSING_STATUSES))
    if unknown:
        return f"Invalid processingStatuses: {', '.join(unknown)}."
    try:
        page_size = int(request.args.get("pageSize", "10"))
    except ValueError:
        return "pageSize must be an integer."
    if not 1 <= page_size <= 100:
        return "pageSize must be between 1 and 100."
    now = datetime.now(UTC)
    try:
        since = _parse_time(request.args["createdSince"]) if "createdSince" in request.args else now - timedelta(90)
        until = _parse_time(request.args["createdUntil"]) if "createdUntil" in request.args else now
    except ValueError:
        return "createdSince and createdUntil must be ISO 8601 date-times."
    if since > until:
        return "createdSince must be before createdUntil."
    return {
        "feedTypes": feed_types,
        "marketplaceIds": marketplaces,
        "processingStatuses": statuses,
        "pageSize": page_size,
        "createdSince": since,
        "createdUntil": until,
    }
