"""The ``POST_ORDER_ACKNOWLEDGEMENT_DATA`` feed that cancels Amazon orders (plain data in, UTF-8 bytes out).

No released Orders API call cancels an order: the supported way is an OrderAcknowledgement feed whose
messages carry ``StatusCode`` ``Failure``. Amazon validates the whole document against its XSD, so one bad value
can sink every order in the batch: this module checks its input up front and raises ``ValueError`` instead of
building a document Amazon would reject. The document is built with lxml, never by string concatenation, so
text is always escaped correctly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from bridge.domain.cancel_reasons import CancelReason

FEED_TYPE = "POST_ORDER_ACKNOWLEDGEMENT_DATA"
# createFeedDocument and the presigned PUT must send this exact value, or the upload URL refuses the bytes.
FEED_CONTENT_TYPE = "text/xml; charset=UTF-8"

DOCUMENT_VERSION = "1.01"
MESSAGE_TYPE = "OrderAcknowledgement"
STATUS_CODE_CANCEL = "Failure"  # an acknowledgement with Failure is what cancels the order

_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_SCHEMA_LOCATION = "amzn-envelope.xsd"
_MAX_STRING = 50  # amzn-base.xsd ``String``: a normalizedString of at most 50 characters
_MAX_MESSAGE_ID = 10**20 - 1  # ``IDNumber``: positive, at most 20 digits

# Patterns copied from amzn-base.xsd (``AmazonOrderID``: \w{3}-\w{7}-\w{7}; ``AmazonOrderItemCode``: \d{14}).
_AMAZON_ORDER_ID = re.compile(r"\w{3}-\w{7}-\w{7}", re.ASCII)
_ORDER_ITEM_CODE = re.compile(r"\d{14}", re.ASCII)


@dataclass(frozen=True)
class CancelMessage:
    """One order to cancel: becomes one ``Message`` of the feed."""

    message_id: int  # 1..n, unique in the feed; the processing report names failures by it
    amazon_order_id: str
    merchant_order_id: str | None  # Commerce increment id, <= 50 chars (the element is omitted when None)
    item_ids: tuple[str, ...]  # 14-digit AmazonOrderItemCode values, one Item each
    reason: CancelReason


def build_cancel_feed(merchant_identifier: str, messages: Sequence[CancelMessage]) -> bytes:
    """Return the UTF-8 feed document that cancels every order in ``messages``.

    Raises ``ValueError`` for input Amazon would reject: no messages, a duplicate message id or Amazon order id,
    an order without items, a malformed order id / item code, an unknown reason, or a string over 50 characters.
    """
    _check_string("merchant identifier", merchant_identifier)
    if not messages:
        raise ValueError("a cancel feed needs at least one message")

    seen_ids: set[int] = set()
    seen_orders: set[str] = set()
    for message in messages:
        check_message(message)
        if message.message_id in seen_ids:
            raise ValueError(f"duplicate message id {message.message_id}")
        if message.amazon_order_id in seen_orders:
            raise ValueError(f"Amazon order {message.amazon_order_id} appears in more than one message")
        seen_ids.add(message.message_id)
        seen_orders.add(message.amazon_order_id)

    envelope = etree.Element("AmazonEnvelope", nsmap={"xsi": _XSI})
    envelope.set(f"{{{_XSI}}}noNamespaceSchemaLocation", _SCHEMA_LOCATION)
    header = etree.SubElement(envelope, "Header")
    _text(header, "DocumentVersion", DOCUMENT_VERSION)
    _text(header, "MerchantIdentifier", merchant_identifier)
    _text(envelope, "MessageType", MESSAGE_TYPE)

    # Element order follows OrderAcknowledgement.xsd: AmazonOrderID, MerchantOrderID?, StatusCode, Item*;
    # in Item: AmazonOrderItemCode, (MerchantOrderItemID?, not sent), CancelReason.
    for message in messages:
        element = etree.SubElement(envelope, "Message")
        _text(element, "MessageID", str(message.message_id))
        acknowledgement = etree.SubElement(element, "OrderAcknowledgement")
        _text(acknowledgement, "AmazonOrderID", message.amazon_order_id)
        if message.merchant_order_id is not None:
            _text(acknowledgement, "MerchantOrderID", message.merchant_order_id)
        _text(acknowledgement, "StatusCode", STATUS_CODE_CANCEL)
        reason = CancelReason(message.reason).value
        for item_id in message.item_ids:
            item = etree.SubElement(acknowledgement, "Item")
            _text(item, "AmazonOrderItemCode", item_id)
            _text(item, "CancelReason", reason)

    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def check_message(message: CancelMessage) -> None:
    """Raise ValueError for a message Amazon's schema would refuse (and with it, the whole feed)."""
    message_id = message.message_id
    if not isinstance(message_id, int) or isinstance(message_id, bool) or not 1 <= message_id <= _MAX_MESSAGE_ID:
        raise ValueError(f"message id must be a positive integer of at most 20 digits, got {message_id!r}")
    if not isinstance(message.amazon_order_id, str) or not _AMAZON_ORDER_ID.fullmatch(message.amazon_order_id):
        raise ValueError(f"message {message_id}: malformed Amazon order id {message.amazon_order_id!r}")
    if message.merchant_order_id is not None:
        _check_string(f"message {message_id}: merchant order id", message.merchant_order_id)
    if not message.item_ids:
        raise ValueError(f"message {message_id}: order {message.amazon_order_id} has no items to cancel")
    if len(set(message.item_ids)) != len(message.item_ids):
        raise ValueError(f"message {message_id}: duplicate item ids {message.item_ids!r}")
    for item_id in message.item_ids:
        if not isinstance(item_id, str) or not _ORDER_ITEM_CODE.fullmatch(item_id):
            raise ValueError(f"message {message_id}: item id must be 14 digits, got {item_id!r}")
    try:
        CancelReason(message.reason)
    except ValueError:
        raise ValueError(f"message {message_id}: unknown cancel reason {message.reason!r}") from None


def _check_string(name: str, value: str) -> None:
    """amzn-base.xsd ``String``: at most 50 characters, no tab / CR / LF (normalizedString)."""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, got {value!r}")
    if not value.strip():
        raise ValueError(f"{name} must not be empty")
    if len(value) > _MAX_STRING:
        raise ValueError(f"{name} is {len(value)} characters long, Amazon accepts at most {_MAX_STRING}")
    if any(char in value for char in "\t\r\n"):
        raise ValueError(f"{name} must not contain tabs or line breaks: {value!r}")


def _text(parent: etree._Element, tag: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, tag)
    element.text = text
    return element
