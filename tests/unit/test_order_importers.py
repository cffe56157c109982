"""Which Commerce orders came from Amazon, whichever importer brought them (no HTTP, no database)."""

from __future__ import annotations

import pytest

from bridge.domain.commerce_order import CommerceOrder
from bridge.domain.order_importers import DEFAULT_IMPORTERS, IdFrom, Importer, amazon_order_id, parse_id_from

AMAZON_ID = "171-1234567-1234567"


def order(method: str | None, *, po_number: str | None = None, info: dict[str, str] | None = None,
          increment_id: str = "000000042", ext_order_id: str | None = None) -> CommerceOrder:  # fmt: skip
    return CommerceOrder(
        42, increment_id, "processing", "processing", 1, method, po_number, payment_info=info or {},
        ext_order_id=ext_order_id,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("commerce_order", "expected"),
    [
        (order("amazonpayment", po_number=AMAZON_ID), AMAZON_ID),  # Amazon Sales Channel
        (order("amazonpayment"), None),  # its method without the id: not recognisable
        (order("m2epropayment", info={"component_mode": "amazon", "channel_order_id": AMAZON_ID}), AMAZON_ID),
        (order("m2epropayment", info={"component_mode": "ebay", "channel_order_id": "12-34567-89012"}), None),
        (order("m2epropayment", info={"component_mode": "walmart", "channel_order_id": "1234567890"}), None),
        (order("m2epropayment", po_number=AMAZON_ID), None),  # M2E Pro keeps no id in po_number
        (order("checkmo", po_number=AMAZON_ID), None),
        (order(None), None),
    ],
)
def test_amazon_sales_channel_and_m2e_pro_amazon_orders_are_recognised(commerce_order, expected) -> None:
    assert amazon_order_id(commerce_order, DEFAULT_IMPORTERS) == expected


def test_an_importer_described_in_the_settings() -> None:
    by_number = Importer("custom", frozenset({"channelengine"}), IdFrom.INCREMENT_ID, key="AMZ-")
    assert by_number.amazon_order_id(order("channelengine", increment_id=f"AMZ-{AMAZON_ID}")) == AMAZON_ID
    assert by_number.amazon_order_id(order("channelengine", increment_id="EBAY-1")) is None
    by_ext = Importer("custom", frozenset({"codisto"}), IdFrom.EXT_ORDER_ID)
    assert by_ext.amazon_order_id(order("codisto", ext_order_id=AMAZON_ID)) == AMAZON_ID
    by_info = Importer("custom", frozenset({"x"}), IdFrom.PAYMENT_INFO, key="amazon_order_id")
    assert by_info.amazon_order_id(order("x", info={"amazon_order_id": f" {AMAZON_ID} "})) == AMAZON_ID


@pytest.mark.parametrize(
    ("spec", "parsed"),
    [
        ("po_number", (IdFrom.PO_NUMBER, "")),
        ("payment_info:channel_order_id", (IdFrom.PAYMENT_INFO, "channel_order_id")),
        ("increment_id", (IdFrom.INCREMENT_ID, "")),
        ("increment_id:AMZ-", (IdFrom.INCREMENT_ID, "AMZ-")),
        ("ext_order_id", (IdFrom.EXT_ORDER_ID, "")),
        ("payment_info", None),  # which key?
        ("po_number:x", None),
        ("somewhere", None),
    ],
)
def test_where_the_id_is_is_read_from_the_settings(spec: str, parsed) -> None:
    assert parse_id_from(spec) == parsed
