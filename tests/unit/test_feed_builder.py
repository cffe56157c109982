"""The cancel feed, checked against Amazon's own XSD and sample (read from the shared reference, never copied)."""

from __future__ import annotations

import pytest
from lxml import etree

from bridge.domain.cancel_reasons import CancelReason
from bridge.domain.feed_builder import FEED_CONTENT_TYPE, FEED_TYPE, CancelMessage, build_cancel_feed
from tests.reference import reference

XSI = "http://www.w3.org/2001/XMLSchema-instance"


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    # Loaded from its path so that its xsd:include of the four sibling files resolves.
    return etree.XMLSchema(etree.parse(str(reference("amazon", "xsd", "amzn-envelope-orders.xsd"))))


def _message(message_id: int = 1, **changes: object) -> CancelMessage:
    fields: dict[str, object] = {
        "message_id": message_id,
        "amazon_order_id": f"171-1234567-{message_id:07d}",
        "merchant_order_id": f"{message_id:09d}",
        "item_ids": (f"{message_id:07d}0000001",),
        "reason": CancelReason.NO_INVENTORY,
    }
    fields.update(changes)
    return CancelMessage(**fields)  # type: ignore[arg-type]


def _several_orders() -> list[CancelMessage]:
    return [
        _message(1, item_ids=("12345678901234", "12345678901235", "12345678901236")),
        _message(2, merchant_order_id=None, reason=CancelReason.BUYER_CANCELED),
        _message(3, item_ids=("98765432109876", "98765432109877"), reason=CancelReason.GENERAL_ADJUSTMENT),
    ]


def _shape(element: etree._Element) -> list[tuple[str, str, dict[str, str]]]:
    """Every element in document order with its text and attributes, whitespace-only text ignored."""
    return [(e.tag, (e.text or "").strip(), dict(e.attrib)) for e in element.iter() if isinstance(e.tag, str)]


def test_constants_match_the_feeds_api() -> None:
    assert FEED_TYPE == "POST_ORDER_ACKNOWLEDGEMENT_DATA"
    assert FEED_CONTENT_TYPE == "text/xml; charset=UTF-8"


def test_a_feed_of_several_orders_is_valid_against_the_xsd(schema: etree.XMLSchema) -> None:
    document = build_cancel_feed("A1EXAMPLESELLER", _several_orders())

    root = etree.fromstring(document)
    schema.assertValid(root)
    assert [m.findtext("MessageID") for m in root.findall("Message")] == ["1", "2", "3"]
    items = [len(m.findall("OrderAcknowledgement/Item")) for m in root.findall("Message")]
    assert items == [3, 1, 2]
    second = root.findall("Message")[1].find("OrderAcknowledgement")
    assert second.find("MerchantOrderID") is None  # omitted, not empty
    assert [child.tag for child in second] == ["AmazonOrderID", "StatusCode", "Item"]
    reasons = [r.text for r in root.iter("CancelReason")]
    assert reasons == ["NoInventory"] * 3 + ["BuyerCanceled"] + ["GeneralAdjustment"] * 2
    assert {s.text for s in root.iter("StatusCode")} == {"Failure"}


def test_the_document_is_utf8_with_a_declaration_and_the_samples_envelope() -> None:
    document = build_cancel_feed("A1EXAMPLESELLER", [_message(1, merchant_order_id="Società-1")])

    assert document.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert "Società-1".encode() in document
    root = etree.fromstring(document)
    assert root.nsmap == {"xsi": XSI}
    assert root.get(f"{{{XSI}}}noNamespaceSchemaLocation") == "amzn-envelope.xsd"


def test_a_one_order_feed_equals_the_sample_without_merchant_order_item_ids() -> None:
    sample = etree.parse(str(reference("amazon", "samples", "order-cancel-feed.xml"))).getroot()
    for element in list(sample.iter("MerchantOrderItemID")):  # the bridge does not send this optional element
        element.getparent().remove(element)
    message = CancelMessage(
        message_id=1,
        amazon_order_id="902-3159896-1390916",
        merchant_order_id="000000123",
        item_ids=("12345678901234", "12345678901235"),
        reason=CancelReason.BUYER_CANCELED,
    )

    built = etree.fromstring(build_cancel_feed("A1EXAMPLESELLER", [message]))

    assert _shape(built) == _shape(sample)
    assert built.nsmap == sample.nsmap


def test_text_is_escaped_not_concatenated(schema: etree.XMLSchema) -> None:
    tricky = '<A&B "x">'
    document = build_cancel_feed("A1&<SELLER>", [_message(1, merchant_order_id=tricky)])

    root = etree.fromstring(document)
    schema.assertValid(root)
    assert root.findtext("Header/MerchantIdentifier") == "A1&<SELLER>"
    assert root.findtext("Message/OrderAcknowledgement/MerchantOrderID") == tricky


def test_a_bad_cancel_reason_fails_schema_validation(schema: etree.XMLSchema) -> None:
    """Proves the validation above can fail: the XSD only accepts Amazon's ten reasons."""
    root = etree.fromstring(build_cancel_feed("A1EXAMPLESELLER", _several_orders()))
    assert schema.validate(root)

    root.find(".//CancelReason").text = "ChangedMind"

    assert not schema.validate(root)
    assert "CancelReason" in str(schema.error_log.last_error)


def test_elements_out_of_xsd_order_fail_schema_validation(schema: etree.XMLSchema) -> None:
    root = etree.fromstring(build_cancel_feed("A1EXAMPLESELLER", [_message(1)]))
    acknowledgement = root.find("Message/OrderAcknowledgement")
    acknowledgement.append(acknowledgement.find("MerchantOrderID"))  # moved after the items

    assert not schema.validate(root)


def test_every_cancel_reason_is_accepted_by_the_xsd(schema: etree.XMLSchema) -> None:
    messages = [_message(i + 1, reason=reason) for i, reason in enumerate(CancelReason)]

    schema.assertValid(etree.fromstring(build_cancel_feed("A1EXAMPLESELLER", messages)))


def test_a_fifty_character_merchant_order_id_is_accepted(schema: etree.XMLSchema) -> None:
    schema.assertValid(etree.fromstring(build_cancel_feed("A1", [_message(1, merchant_order_id="9" * 50)])))


@pytest.mark.parametrize(
    ("merchant", "messages", "match"),
    [
        ("A1", [], "at least one message"),
        ("A1", [_message(1), _message(1, amazon_order_id="171-1234567-7654321")], "duplicate message id 1"),
        ("A1", [_message(1, item_ids=())], "no items"),
        ("A1", [_message(1, merchant_order_id="9" * 51)], "at most 50"),
        ("A1", [_message(1), _message(2, amazon_order_id="171-1234567-0000001")], "more than one message"),
        ("A1", [_message(0)], "positive integer"),
        ("A1", [_message(-3)], "positive integer"),
        ("A1", [_message(1, amazon_order_id="171-123-456")], "malformed Amazon order id"),
        ("A1", [_message(1, item_ids=("1234",))], "14 digits"),
        ("A1", [_message(1, item_ids=("12345678901234", "12345678901234"))], "duplicate item ids"),
        ("A1", [_message(1, reason="ChangedMind")], "unknown cancel reason"),
        ("A1", [_message(1, merchant_order_id="")], "must not be empty"),
        ("A1", [_message(1, merchant_order_id="1\n2")], "line breaks"),
        ("A1", [_message(1, merchant_order_id="A\x00B")], "XML compatible"),
        ("", [_message(1)], "merchant identifier must not be empty"),
        ("A" * 51, [_message(1)], "merchant identifier is 51 characters"),
    ],
)
def test_input_amazon_would_reject_raises_value_error(merchant: str, messages: list[CancelMessage], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        build_cancel_feed(merchant, messages)
