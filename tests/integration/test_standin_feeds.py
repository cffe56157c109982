"""The SP-API stand-in's Feeds API 2021-06-30, driven over real HTTP as the bridge's client will drive it."""

from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from lxml import etree

from standins.amazon import AmazonStandIn, StandInOrder
from tests.reference import optional_reference, reference
from tests.seeds import REFRESH_TOKENS

IT_SELLER, IT_MARKET = REFRESH_TOKENS["SPAPI_REFRESH_TOKEN_IT"][0], "APJ6JRA9NG5V4"
US_SELLER, US_MARKET = REFRESH_TOKENS["SPAPI_REFRESH_TOKEN_US"][0], "ATVPDKIKX0DER"
ES_MARKET = "A1RKKUPIHCS9HS"
XML = "text/xml; charset=UTF-8"
ACK = "POST_ORDER_ACKNOWLEDGEMENT_DATA"


def cancel_message(message_id: int, order_id: str, items: list[str], reason: str = "NoInventory") -> str:
    lines = "".join(
        f"<Item><AmazonOrderItemCode>{item}</AmazonOrderItemCode><CancelReason>{reason}</CancelReason></Item>"
        for item in items
    )
    return (
        f"<Message><MessageID>{message_id}</MessageID><OrderAcknowledgement>"
        f"<AmazonOrderID>{order_id}</AmazonOrderID><MerchantOrderID>00000{message_id}</MerchantOrderID>"
        f"<StatusCode>Failure</StatusCode>{lines}</OrderAcknowledgement></Message>"
    )


def envelope(merchant: str, *messages: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<AmazonEnvelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:noNamespaceSchemaLocation="amzn-envelope.xsd">\n'
        f"<Header><DocumentVersion>1.01</DocumentVersion><MerchantIdentifier>{merchant}</MerchantIdentifier></Header>\n"
        "<MessageType>OrderAcknowledgement</MessageType>\n" + "\n".join(messages) + "\n</AmazonEnvelope>\n"
    ).encode("utf-8")


@dataclass
class Report:
    root: Any
    raw: bytes

    def summary(self) -> dict[str, int]:
        node = self.root.find("Message/ProcessingReport/ProcessingSummary")
        return {child.tag: int(child.text) for child in node}

    def results(self) -> list[dict[str, str | None]]:
        return [
            {
                "MessageID": r.findtext("MessageID"),
                "ResultCode": r.findtext("ResultCode"),
                "ResultMessageCode": r.findtext("ResultMessageCode"),
                "ResultDescription": r.findtext("ResultDescription"),
                "AmazonOrderID": r.findtext("AdditionalInfo/AmazonOrderID"),
            }
            for r in self.root.iterfind("Message/ProcessingReport/Result")
        ]


class Seller:
    """One seller's SP-API session against the stand-in: an LWA token, then the Feeds operations."""

    def __init__(self, amazon: AmazonStandIn, refresh_token: str) -> None:
        self.base = amazon.url  # type: ignore[attr-defined]
        answer = requests.post(
            f"{self.base}/auth/o2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": amazon.client_id,
                "client_secret": amazon.client_secret,
            },
            timeout=5,
        )
        answer.raise_for_status()
        self.session = requests.Session()
        self.session.headers.update({"x-amz-access-token": answer.json()["access_token"], "Accept": "application/json"})

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.base + path, timeout=10, **kwargs)

    def create_document(self, content_type: str = XML) -> dict[str, str]:
        answer = self.call("POST", "/feeds/2021-06-30/documents", json={"contentType": content_type})
        assert answer.status_code == 201, answer.text
        return answer.json()

    def upload(self, content: bytes, content_type: str = XML) -> str:
        document = self.create_document(content_type)
        put = requests.put(document["url"], data=content, headers={"Content-Type": content_type}, timeout=5)
        assert put.status_code == 200, put.text
        return document["feedDocumentId"]

    def create_feed(self, document_id: str, marketplaces: list[str], feed_type: str = ACK) -> requests.Response:
        body = {"feedType": feed_type, "marketplaceIds": marketplaces, "inputFeedDocumentId": document_id}
        return self.call("POST", "/feeds/2021-06-30/feeds", json=body)

    def submit(self, content: bytes, marketplaces: list[str] | None = None) -> str:
        answer = self.create_feed(self.upload(content), marketplaces or [IT_MARKET])
        assert answer.status_code == 202, answer.text
        return answer.json()["feedId"]

    def get_feed(self, feed_id: str) -> dict[str, Any]:
        answer = self.call("GET", f"/feeds/2021-06-30/feeds/{feed_id}")
        assert answer.status_code == 200, answer.text
        return answer.json()

    def finished_feed(self, feed_id: str) -> dict[str, Any]:
        for _ in range(10):
            feed = self.get_feed(feed_id)
            if feed["processingStatus"] in ("DONE", "CANCELLED", "FATAL"):
                return feed
        raise AssertionError(f"feed {feed_id} is still {feed['processingStatus']}")

    def report(self, feed_id: str) -> Report:
        feed = self.finished_feed(feed_id)
        assert feed["processingStatus"] == "DONE"
        document = self.call("GET", f"/feeds/2021-06-30/documents/{feed['resultFeedDocumentId']}").json()
        download = requests.get(document["url"], timeout=5)
        assert download.status_code == 200
        raw = download.content
        if document.get("compressionAlgorithm") == "GZIP":
            raw = gzip.decompress(raw)
        return Report(etree.fromstring(raw), raw)


@pytest.fixture
def it(amazon: AmazonStandIn) -> Seller:
    amazon.xsd_dir = optional_reference("amazon", "xsd")
    return Seller(amazon, REFRESH_TOKENS["SPAPI_REFRESH_TOKEN_IT"][1])


@pytest.fixture
def us(amazon: AmazonStandIn) -> Seller:
    return Seller(amazon, REFRESH_TOKENS["SPAPI_REFRESH_TOKEN_US"][1])


def it_order(amazon: AmazonStandIn, order_id: str, status: str = "UNSHIPPED", **kwargs: Any) -> StandInOrder:
    items = kwargs.pop("item_ids", [f"{order_id[-7:]}0000001", f"{order_id[-7:]}0000002"])
    order = StandInOrder(order_id, IT_SELLER, IT_MARKET, status=status, item_ids=items, **kwargs)
    return amazon.add_order(order)


def report_schema() -> etree.XMLSchema:
    """Amazon's envelope schema (the test is skipped without the official reference, except in CI)."""
    return etree.XMLSchema(etree.parse(str(reference("amazon", "xsd", "amzn-envelope-orders.xsd"))))


def test_happy_path_cancels_the_order(amazon: AmazonStandIn, it: Seller) -> None:
    order = it_order(amazon, "171-1000001-1000001")
    feed = envelope(IT_SELLER, cancel_message(1, order.order_id, order.item_ids, "BuyerCanceled"))
    assert report_schema().validate(etree.fromstring(feed))

    created = it.call("POST", "/feeds/2021-06-30/documents", json={"contentType": XML})
    assert created.status_code == 201
    assert created.headers["x-amzn-RateLimit-Limit"] == "0.5"
    assert created.headers["x-amzn-RequestId"]
    document = created.json()
    assert set(document) == {"feedDocumentId", "url"}
    assert document["url"].startswith(f"{amazon.url}/uploads/")  # type: ignore[attr-defined]
    assert "X-Amz-Signature=" in document["url"]
    put = requests.put(document["url"], data=feed, headers={"Content-Type": XML}, timeout=5)
    assert put.status_code == 200 and put.headers["ETag"]

    answer = it.create_feed(document["feedDocumentId"], [IT_MARKET])
    assert answer.status_code == 202
    assert answer.headers["x-amzn-RateLimit-Limit"] == "0.0083"
    feed_id = answer.json()["feedId"]
    assert amazon.cancel_messages == {order.order_id: 1}

    done = it.finished_feed(feed_id)
    assert done["processingStatus"] == "DONE"
    assert done["feedType"] == ACK and done["marketplaceIds"] == [IT_MARKET]
    assert {"createdTime", "processingStartTime", "processingEndTime", "resultFeedDocumentId"} <= set(done)

    result = it.call("GET", f"/feeds/2021-06-30/documents/{done['resultFeedDocumentId']}")
    assert result.status_code == 200 and result.headers["x-amzn-RateLimit-Limit"] == "0.0222"
    assert "compressionAlgorithm" not in result.json()
    download = requests.get(result.json()["url"], timeout=5)
    assert download.headers["Content-Type"] == "text/xml; charset=UTF-8"
    report = etree.fromstring(download.content)
    assert report_schema().validate(report)
    assert report.findtext("Header/DocumentVersion") == "1.02"
    assert report.findtext("Header/MerchantIdentifier") == IT_SELLER
    assert report.findtext("MessageType") == "ProcessingReport"
    assert report.findtext("Message/ProcessingReport/DocumentTransactionID") == feed_id
    assert report.findtext("Message/ProcessingReport/StatusCode") == "Complete"
    assert report.find("Message/ProcessingReport/Result") is None
    assert Report(report, download.content).summary() == {
        "MessagesProcessed": 1,
        "MessagesSuccessful": 1,
        "MessagesWithError": 0,
        "MessagesWithWarning": 0,
    }

    assert (order.status, order.cancelled_by, order.cancel_reason) == ("CANCELLED", "MERCHANT", "BuyerCanceled")
    seen = it.call("GET", f"/orders/2026-01-01/orders/{order.order_id}", params={"includedData": "FULFILLMENT"})
    assert seen.json()["order"]["fulfillment"]["fulfillmentStatus"] == "CANCELLED"


def test_upload_is_bound_to_the_declared_content_type(amazon: AmazonStandIn, it: Seller) -> None:
    document = it.create_document(XML)
    feed = envelope(IT_SELLER, cancel_message(1, "171-1000002-1000002", ["10000020000001"]))
    for content_type in ("text/xml;charset=UTF-8", "text/xml; charset=utf-8", "application/xml"):
        put = requests.put(document["url"], data=feed, headers={"Content-Type": content_type}, timeout=5)
        assert put.status_code == 403
        error = etree.fromstring(put.content)
        assert error.tag == "Error" and error.findtext("Code") == "SignatureDoesNotMatch"
    put = requests.put(document["url"], data=feed, timeout=5)  # no Content-Type at all
    assert put.status_code == 403
    tampered = document["url"].replace("X-Amz-Signature=", "X-Amz-Signature=0")
    assert requests.put(tampered, data=feed, headers={"Content-Type": XML}, timeout=5).status_code == 403

    never_uploaded = it.create_feed(document["feedDocumentId"], [IT_MARKET])
    assert never_uploaded.status_code == 400
    assert never_uploaded.json()["errors"][0]["code"] == "InvalidInput"

    amazon.document_url_lifetime = 0
    late = it.create_document(XML)
    expired = requests.put(late["url"], data=feed, headers={"Content-Type": XML}, timeout=5)
    assert expired.status_code == 403
    assert etree.fromstring(expired.content).findtext("Code") == "AccessDenied"
    assert etree.fromstring(expired.content).findtext("Message") == "Request has expired"

    good = requests.put(document["url"], data=feed, headers={"Content-Type": XML}, timeout=5)
    assert good.status_code == 200
    assert amazon.feed_service.documents[document["feedDocumentId"]].content == feed


def test_invalid_document_fails_every_message(amazon: AmazonStandIn, it: Seller) -> None:
    schema = report_schema()  # the stand-in validates against it
    first = it_order(amazon, "171-1000003-1000003")
    second = it_order(amazon, "171-1000004-1000004")
    feed = envelope(
        IT_SELLER,
        cancel_message(1, first.order_id, first.item_ids),
        cancel_message(2, second.order_id, second.item_ids, reason="OutOfStock"),
    )
    report = it.report(it.submit(feed))
    assert report.summary()["MessagesProcessed"] == 2
    assert report.summary()["MessagesWithError"] == 2
    results = report.results()
    assert [(r["MessageID"], r["ResultCode"], r["ResultMessageCode"]) for r in results] == [
        ("1", "Error", "5001"),
        ("2", "Error", "5001"),
    ]
    assert "CancelReason" in (results[1]["ResultDescription"] or "")
    assert "OutOfStock" in (results[1]["ResultDescription"] or "")
    assert [r["AmazonOrderID"] for r in results] == [first.order_id, second.order_id]
    assert first.status == second.status == "UNSHIPPED"
    assert schema.validate(report.root)

    broken = it.report(it.submit(b"<AmazonEnvelope><Header>"))
    assert [(r["MessageID"], r["ResultMessageCode"]) for r in broken.results()] == [("0", "5000")]
    assert broken.summary()["MessagesWithError"] == 1


def test_wrong_merchant_fails_every_message(amazon: AmazonStandIn, it: Seller) -> None:
    order = it_order(amazon, "171-1000005-1000005")
    report = it.report(it.submit(envelope(US_SELLER, cancel_message(1, order.order_id, order.item_ids))))
    assert [(r["MessageID"], r["ResultMessageCode"]) for r in report.results()] == [("1", "5002")]
    assert order.status == "UNSHIPPED"


def test_shipped_order_gets_an_error_naming_it(amazon: AmazonStandIn, it: Seller) -> None:
    shipped = it_order(amazon, "171-1000006-1000006", status="SHIPPED")
    fine = it_order(amazon, "171-1000007-1000007")
    feed = envelope(
        IT_SELLER,
        cancel_message(1, fine.order_id, fine.item_ids),
        cancel_message(2, shipped.order_id, shipped.item_ids),
    )
    report = it.report(it.submit(feed))
    assert report.summary() == {
        "MessagesProcessed": 2,
        "MessagesSuccessful": 1,
        "MessagesWithError": 1,
        "MessagesWithWarning": 0,
    }
    [result] = report.results()
    assert (result["MessageID"], result["ResultCode"], result["AmazonOrderID"]) == ("2", "Error", shipped.order_id)
    assert "shipped" in (result["ResultDescription"] or "")
    assert shipped.status == "SHIPPED" and shipped.cancelled_by is None
    assert fine.status == "CANCELLED"


def test_each_rule_has_its_error(amazon: AmazonStandIn, it: Seller) -> None:
    good = it_order(amazon, "171-2000001-2000001")
    fba = it_order(amazon, "171-2000002-2000002", fulfilled_by="AMAZON")
    pending = it_order(amazon, "171-2000003-2000003", status="PENDING")
    wrong_items = it_order(amazon, "171-2000004-2000004")
    spanish = amazon.add_order(StandInOrder("171-2000005-2000005", IT_SELLER, ES_MARKET, item_ids=["20000050000001"]))
    other_seller = amazon.add_order(
        StandInOrder("171-2000006-2000006", US_SELLER, IT_MARKET, item_ids=["20000060000001"])
    )
    feed = envelope(
        IT_SELLER,
        cancel_message(1, good.order_id, good.item_ids),
        cancel_message(2, fba.order_id, fba.item_ids),
        cancel_message(3, pending.order_id, pending.item_ids),
        cancel_message(4, wrong_items.order_id, ["99999999999999"]),
        cancel_message(5, spanish.order_id, spanish.item_ids),
        cancel_message(6, other_seller.order_id, other_seller.item_ids),
        cancel_message(7, "171-9999999-9999999", ["99999990000001"]),
        cancel_message(8, good.order_id, good.item_ids),
        cancel_message(8, wrong_items.order_id, wrong_items.item_ids),  # a duplicate MessageID
    )
    report = it.report(it.submit(feed))
    assert [(r["MessageID"], r["ResultMessageCode"]) for r in report.results()] == [
        ("2", "13016"),
        ("3", "13017"),
        ("4", "18028"),
        ("5", "13013"),
        ("6", "13013"),
        ("7", "13013"),
        ("8", "13014"),
        ("8", "5003"),
    ]
    assert report.summary() == {
        "MessagesProcessed": 9,
        "MessagesSuccessful": 1,
        "MessagesWithError": 8,
        "MessagesWithWarning": 0,
    }
    assert report_schema().validate(report.root)
    already = it.report(it.submit(envelope(IT_SELLER, cancel_message(1, good.order_id, good.item_ids))))
    assert [r["ResultMessageCode"] for r in already.results()] == ["13014"]
    assert good.status == "CANCELLED"
    assert [o.status for o in (fba, pending, wrong_items, spanish, other_seller)] == [
        "UNSHIPPED",
        "PENDING",
        "UNSHIPPED",
        "UNSHIPPED",
        "UNSHIPPED",
    ]
    assert amazon.cancel_messages[good.order_id] == 3  # two messages in the first feed, one in the second


def test_gzip_and_charset(amazon: AmazonStandIn, it: Seller) -> None:
    amazon.gzip_reports = True
    amazon.report_charset = "ISO-8859-1"
    order = it_order(amazon, "171-1000008-1000008")
    feed_id = it.submit(envelope(IT_SELLER, cancel_message(1, order.order_id, order.item_ids, reason="Rückgabe")))
    result_id = it.finished_feed(feed_id)["resultFeedDocumentId"]
    document = it.call("GET", f"/feeds/2021-06-30/documents/{result_id}").json()
    assert document["compressionAlgorithm"] == "GZIP"
    download = requests.get(document["url"], timeout=5)
    assert download.headers["Content-Type"] == "text/xml; charset=ISO-8859-1"
    assert "Content-Encoding" not in download.headers
    assert download.content[:2] == b"\x1f\x8b"
    raw = gzip.decompress(download.content)
    assert raw.startswith(b"<?xml version='1.0' encoding='ISO-8859-1'?>")
    assert "Rückgabe".encode("latin-1") in raw
    assert "Rückgabe" in raw.decode("iso-8859-1")
    assert "Rückgabe" in etree.fromstring(raw).findtext("Message/ProcessingReport/Result/ResultDescription")

    decoded = it.call(
        "GET", f"/feeds/2021-06-30/documents/{result_id}", params={"enableContentEncodingUrlHeader": "true"}
    ).json()
    auto = requests.get(decoded["url"], timeout=5)
    assert auto.headers["Content-Encoding"] == "gzip"
    assert auto.content == raw  # requests undid the gzip itself


def test_fatal_and_cancelled_injection(amazon: AmazonStandIn, it: Seller) -> None:
    first = it_order(amazon, "171-1000009-1000009")
    second = it_order(amazon, "171-1000010-1000010")
    amazon.fail_next_feeds()
    fatal = it.finished_feed(it.submit(envelope(IT_SELLER, cancel_message(1, first.order_id, first.item_ids))))
    assert fatal["processingStatus"] == "FATAL" and "resultFeedDocumentId" not in fatal
    assert first.status == "UNSHIPPED"
    assert amazon.cancel_messages[first.order_id] == 1

    amazon.cancel_next_feeds()
    cancelled = it.finished_feed(it.submit(envelope(IT_SELLER, cancel_message(1, first.order_id, first.item_ids))))
    assert cancelled["processingStatus"] == "CANCELLED" and "resultFeedDocumentId" not in cancelled
    assert first.status == "UNSHIPPED"

    amazon.fail_next_feeds(apply_messages=True)
    half = it.finished_feed(it.submit(envelope(IT_SELLER, cancel_message(1, second.order_id, second.item_ids))))
    assert half["processingStatus"] == "FATAL" and second.status == "CANCELLED"

    done = it.finished_feed(it.submit(envelope(IT_SELLER, cancel_message(1, first.order_id, first.item_ids))))
    assert done["processingStatus"] == "DONE" and first.status == "CANCELLED"
    assert amazon.cancel_messages[first.order_id] == 3


def test_processing_delay_and_cancel_feed(amazon: AmazonStandIn, it: Seller) -> None:
    amazon.feed_processing_delay = 3600
    order = it_order(amazon, "171-1000011-1000011")
    content = envelope(IT_SELLER, cancel_message(1, order.order_id, order.item_ids))
    queued = it.submit(content)
    assert it.get_feed(queued)["processingStatus"] == "IN_QUEUE"
    assert it.call("DELETE", f"/feeds/2021-06-30/feeds/{queued}").status_code == 200
    assert it.get_feed(queued)["processingStatus"] == "CANCELLED"
    again = it.call("DELETE", f"/feeds/2021-06-30/feeds/{queued}")
    assert again.status_code == 400 and again.json()["errors"][0]["code"] == "InvalidInput"

    waiting = it.submit(content)
    amazon.feed_service.feeds[waiting].created_at -= 2000  # past half of the delay
    feed = it.get_feed(waiting)
    assert feed["processingStatus"] == "IN_PROGRESS" and "processingStartTime" in feed
    assert it.call("DELETE", f"/feeds/2021-06-30/feeds/{waiting}").status_code == 400
    assert order.status == "UNSHIPPED"
    assert amazon.process_due_feeds() == []
    assert amazon.process_due_feeds(force=True) == [waiting]
    assert it.get_feed(waiting)["processingStatus"] == "DONE"
    assert order.status == "CANCELLED"

    amazon.feed_processing_delay = 0  # lowering the delay releases queued feeds at the next request
    third = it.submit(content)
    assert it.get_feed(third)["processingStatus"] == "DONE"


def test_get_feeds_filters(amazon: AmazonStandIn, it: Seller, us: Seller) -> None:
    content = envelope(IT_SELLER, cancel_message(1, "171-1000012-1000012", ["10000120000001"]))
    document = it.upload(content)
    ids = []
    amazon.fail_next_feeds()  # the first feed processed ends FATAL, the others DONE
    for marketplaces in ([IT_MARKET], [ES_MARKET], [IT_MARKET, ES_MARKET]):
        answer = it.create_feed(document, marketplaces)
        assert answer.status_code == 202
        ids.append(answer.json()["feedId"])
    amazon.process_due_feeds()
    theirs = us.submit(envelope(US_SELLER, cancel_message(1, "111-1000012-1000012", ["10000120000001"])), [US_MARKET])

    def get_feeds(**params: Any) -> requests.Response:
        return it.call("GET", "/feeds/2021-06-30/feeds", params=params)

    missing = get_feeds(pageSize=5)
    assert missing.status_code == 400 and missing.json()["errors"][0]["code"] == "InvalidInput"
    every = get_feeds(feedTypes=ACK)
    assert every.headers["x-amzn-RateLimit-Limit"] == "0.0222"
    assert [f["feedId"] for f in every.json()["feeds"]] == ids[::-1]  # newest first, only this seller's
    assert "nextToken" not in every.json()
    assert [f["feedId"] for f in get_feeds(feedTypes=ACK, processingStatuses="FATAL").json()["feeds"]] == [ids[0]]
    spain = get_feeds(feedTypes=f"POST_PRODUCT_DATA,{ACK}", marketplaceIds=ES_MARKET).json()["feeds"]
    assert [f["feedId"] for f in spain] == [ids[2], ids[1]]
    assert get_feeds(feedTypes="POST_PRODUCT_DATA").json() == {"feeds": []}

    page = get_feeds(feedTypes=ACK, pageSize=2).json()
    assert [f["feedId"] for f in page["feeds"]] == [ids[2], ids[1]]
    rest = get_feeds(nextToken=page["nextToken"]).json()
    assert [f["feedId"] for f in rest["feeds"]] == [ids[0]] and "nextToken" not in rest
    assert get_feeds(nextToken=page["nextToken"], feedTypes=ACK).status_code == 400
    assert get_feeds(feedTypes=ACK, processingStatuses="BAD_VALUE,DONE").status_code == 400
    last_year = {"createdSince": "2020-01-01T00:00:00Z", "createdUntil": "2020-12-31T23:59:59.999Z"}
    assert get_feeds(feedTypes=ACK, **last_year).json() == {"feeds": []}  # the 10th call: getFeeds' burst

    assert it.call("GET", f"/feeds/2021-06-30/feeds/{theirs}").status_code == 404
    assert us.call("GET", f"/feeds/2021-06-30/feeds/{ids[0]}").status_code == 404
    assert us.call("GET", "/feeds/2021-06-30/feeds", params={"feedTypes": ACK}).json()["feeds"][0]["feedId"] == theirs
    assert it.call("GET", "/feeds/2021-06-30/feeds/not-a-feed").status_code == 400


def test_create_feed_validation(amazon: AmazonStandIn, it: Seller, us: Seller) -> None:
    document = it.upload(envelope(IT_SELLER, cancel_message(1, "171-1000013-1000013", ["10000130000001"])))
    theirs = us.upload(envelope(US_SELLER, cancel_message(1, "111-1000013-1000013", ["10000130000001"])))
    good = {"feedType": ACK, "marketplaceIds": [IT_MARKET], "inputFeedDocumentId": document}
    bad_bodies = [
        {k: v for k, v in good.items() if k != "feedType"},
        {k: v for k, v in good.items() if k != "marketplaceIds"},
        {k: v for k, v in good.items() if k != "inputFeedDocumentId"},
        {**good, "marketplaceIds": []},
        {**good, "marketplaceIds": [IT_MARKET] * 26},
        {**good, "inputFeedDocumentId": "amzn1.tortuga.4.na.unknown"},
        {**good, "inputFeedDocumentId": theirs},
    ]
    for body in bad_bodies:
        answer = it.call("POST", "/feeds/2021-06-30/feeds", json=body)
        assert answer.status_code == 400, body
        assert answer.json()["errors"][0]["code"] == "InvalidInput"
        assert answer.headers["x-amzn-RequestId"]
    not_json = it.call("POST", "/feeds/2021-06-30/feeds", data="feedType=x")
    assert not_json.status_code == 415
    empty = it.call("POST", "/feeds/2021-06-30/documents", json={})
    assert empty.status_code == 400 and empty.json()["errors"][0]["code"] == "InvalidInput"
    assert it.call("GET", "/feeds/2021-06-30/documents/amzn1.tortuga.4.na.unknown").status_code == 404
    assert us.call("GET", f"/feeds/2021-06-30/documents/{document}").status_code == 404


def test_feed_operations_need_an_access_token(amazon: AmazonStandIn) -> None:
    base = amazon.url  # type: ignore[attr-defined]
    missing = requests.post(f"{base}/feeds/2021-06-30/documents", json={"contentType": XML}, timeout=5)
    assert missing.status_code == 403 and missing.json()["errors"][0]["code"] == "Unauthorized"
    forged = requests.get(f"{base}/feeds/2021-06-30/feeds/1", headers={"x-amz-access-token": "Atza|nope"}, timeout=5)
    assert forged.status_code == 403 and forged.headers["x-amzn-RequestId"]


def test_create_feed_quota(amazon: AmazonStandIn, it: Seller) -> None:
    document = it.upload(envelope(IT_SELLER, cancel_message(1, "171-1000014-1000014", ["10000140000001"])))
    statuses = [it.create_feed(document, [IT_MARKET]).status_code for _ in range(15)]
    assert statuses == [202] * 15
    over = it.create_feed(document, [IT_MARKET])
    assert over.status_code == 429
    assert over.json() == {
        "errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource."}]
    }
    assert "x-amzn-RateLimit-Limit" not in over.headers and over.headers["x-amzn-RequestId"]
    assert amazon.calls["createFeed"] == 16
    assert amazon.throttled["createFeed"] == 1
    assert len(amazon.feed_service.feeds) == 15


def test_injected_faults_on_feed_operations(amazon: AmazonStandIn, it: Seller) -> None:
    order = it_order(amazon, "171-1000015-1000015")
    document = it.upload(envelope(IT_SELLER, cancel_message(1, order.order_id, order.item_ids)))
    amazon.faults.add("createFeed", status=500)
    amazon.faults.add("createFeed", status=429)
    failed = it.create_feed(document, [IT_MARKET])
    assert failed.status_code == 500 and failed.json()["errors"][0]["code"] == "InternalFailure"
    assert it.create_feed(document, [IT_MARKET]).status_code == 429
    assert amazon.throttled["createFeed"] == 0  # injected, not the quota
    assert amazon.feed_service.feeds == {}

    amazon.faults.add("uploadFeedDocument", status=503)
    slot = it.create_document()
    slow = requests.put(slot["url"], data=b"<x/>", headers={"Content-Type": XML}, timeout=5)
    assert slow.status_code == 503 and etree.fromstring(slow.content).findtext("Code") == "SlowDown"

    amazon.faults.add("createFeed", delay_after=1.0)
    answers: list[requests.Response] = []
    client = threading.Thread(target=lambda: answers.append(it.create_feed(document, [IT_MARKET])))
    client.start()
    assert amazon.wait_for_feeds(1, timeout=5)  # the feed exists ...
    assert client.is_alive() and not answers  # ... while its answer is still held back
    client.join(timeout=5)
    assert answers[0].status_code == 202
    assert answers[0].json()["feedId"] in amazon.feed_service.feeds
    assert amazon.wait_until(lambda: amazon.calls["createFeed"] == 3, timeout=1)
