"""Feeds API 2021-06-30: hand Amazon a document, follow its processing, fetch the processing report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from marshmallow import fields

from bridge.clients.spapi import SERVICE, AmazonAnswer, SpApiClient, load_answer
from bridge.clients.spapi_operations import (
    CREATE_FEED,
    CREATE_FEED_DOCUMENT,
    GET_FEED,
    GET_FEED_DOCUMENT,
    GET_FEEDS,
)
from bridge.deadline import Deadline
from bridge.domain.processing_report import MAX_REPORT_BYTES
from bridge.domain.stores import Store
from bridge.errors import UpstreamRejected, UpstreamUnavailable

TRANSFER_TIMEOUT = 60.0


class _DocumentSchema(AmazonAnswer):
    feedDocumentId = fields.String(required=True)
    url = fields.String(required=True)
    compressionAlgorithm = fields.String(load_default=None, allow_none=True)


class _FeedIdSchema(AmazonAnswer):
    feedId = fields.String(required=True)


class _FeedSchema(AmazonAnswer):
    feedId = fields.String(required=True)
    feedType = fields.String(required=True)
    marketplaceIds = fields.List(fields.String(), load_default=list)
    createdTime = fields.String(required=True)
    processingStatus = fields.String(required=True)
    resultFeedDocumentId = fields.String(load_default=None, allow_none=True)


class _FeedsPageSchema(AmazonAnswer):
    feeds = fields.List(fields.Nested(_FeedSchema), required=True)
    nextToken = fields.String(load_default=None, allow_none=True)


@dataclass(frozen=True)
class FeedDocument:
    feed_document_id: str
    url: str
    compression_algorithm: str | None = None


@dataclass(frozen=True)
class Feed:
    feed_id: str
    feed_type: str
    marketplace_ids: tuple[str, ...]
    created_time: str
    processing_status: str
    result_document_id: str | None

    @property
    def finished(self) -> bool:
        return self.processing_status in ("DONE", "CANCELLED", "FATAL")


def _feed(data: dict[str, Any]) -> Feed:
    return Feed(
        feed_id=data["feedId"],
        feed_type=data["feedType"],
        marketplace_ids=tuple(data["marketplaceIds"]),
        created_time=data["createdTime"],
        processing_status=data["processingStatus"],
        result_document_id=data["resultFeedDocumentId"],
    )


class FeedsApi:
    def __init__(self, client: SpApiClient, session: requests.Session) -> None:
        self._client = client
        self._session = session  # presigned URLs: plain HTTPS, no token, no quota

    def create_feed_document(self, store: Store, content_type: str, deadline: Deadline) -> FeedDocument:
        body = self._client.call(store, CREATE_FEED_DOCUMENT, deadline, json_body={"contentType": content_type})
        data = load_answer(_DocumentSchema(), body, "createFeedDocument")
        return FeedDocument(data["feedDocumentId"], data["url"])

    def upload(self, document: FeedDocument, content: bytes, content_type: str, deadline: Deadline) -> None:
        """PUT the bytes to the presigned URL with exactly the declared content type (else the URL refuses)."""
        try:
            response = self._session.put(
                document.url,
                data=content,
                headers={"Content-Type": content_type},
                timeout=deadline.timeout(TRANSFER_TIMEOUT, SERVICE),
            )
        except requests.RequestException as exc:
            raise UpstreamUnavailable(SERVICE, f"feed upload failed: {exc.__class__.__name__}") from None
        if response.status_code >= 500:
            raise UpstreamUnavailable(SERVICE, "feed upload failed", status=response.status_code)
        if response.status_code >= 300:
            raise UpstreamRejected(SERVICE, "feed upload refused", status=response.status_code)

    def create_feed(
        self, store: Store, feed_type: str, marketplace_ids: list[str], document_id: str, deadline: Deadline
    ) -> str:
        """Not idempotent: after a timeout or 5xx the caller must find out whether the feed exists."""
        body = self._client.call(
            store,
            CREATE_FEED,
            deadline,
            json_body={"feedType": feed_type, "marketplaceIds": marketplace_ids, "inputFeedDocumentId": document_id},
            idempotent=False,
        )
        return load_answer(_FeedIdSchema(), body, "createFeed")["feedId"]

    def get_feed(self, store: Store, feed_id: str, deadline: Deadline) -> Feed:
        body = self._client.call(store, GET_FEED, deadline, path_params={"feedId": feed_id})
        return _feed(load_answer(_FeedSchema(), body, "getFeed"))

    def get_feeds(
        self, store: Store, feed_type: str, marketplace_id: str, created_since: datetime, deadline: Deadline
    ) -> list[Feed]:
        """Every feed of this type and marketplace created since then (all pages)."""
        params: dict[str, str] = {
            "feedTypes": feed_type,
            "marketplaceIds": marketplace_id,
            "createdSince": created_since.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "pageSize": "100",
        }
        feeds: list[Feed] = []
        while True:
            body = self._client.call(store, GET_FEEDS, deadline, params=params)
            page = load_answer(_FeedsPageSchema(), body, "getFeeds")
            feeds.extend(_feed(item) for item in page["feeds"])
            if not page["nextToken"]:
                return feeds
            params = {"nextToken": page["nextToken"]}

    def probe_list(self, store: Store, feed_type: str, deadline: Deadline) -> None:
        """One getFeeds call for a single feed: proves the app may use the Feeds API for this seller."""
        params = {"feedTypes": feed_type, "marketplaceIds": store.marketplace_id, "pageSize": "1"}
        self._client.call(store, GET_FEEDS, deadline, params=params)

    def get_feed_document(self, store: Store, document_id: str, deadline: Deadline) -> FeedDocument:
        body = self._client.call(store, GET_FEED_DOCUMENT, deadline, path_params={"feedDocumentId": document_id})
        data = load_answer(_DocumentSchema(), body, "getFeedDocument")
        return FeedDocument(data["feedDocumentId"], data["url"], data["compressionAlgorithm"])

    def download(self, document: FeedDocument, deadline: Deadline) -> tuple[bytes, str | None]:
        """The document's bytes as stored (maybe gzipped) and the Content-Type it was served with."""
        try:
            response = self._session.get(document.url, timeout=deadline.timeout(TRANSFER_TIMEOUT, SERVICE), stream=True)
            if response.status_code >= 300:
                error = UpstreamUnavailable if response.status_code >= 500 else UpstreamRejected
                raise error(SERVICE, "report download failed", status=response.status_code)
            content = response.raw.read(MAX_REPORT_BYTES + 1, decode_content=False)
        except requests.RequestException as exc:
            raise UpstreamUnavailable(SERVICE, f"report download failed: {exc.__class__.__name__}") from None
        if len(content) > MAX_REPORT_BYTES:
            raise UpstreamRejected(SERVICE, "report larger than the bridge accepts")
        return content, response.headers.get("Content-Type")
