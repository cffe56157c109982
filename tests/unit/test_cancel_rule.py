"""The cancel rule and reason choice, as plain functions (no HTTP, no database)."""

from __future__ import annotations

import pytest

from bridge.domain.amazon_order import AmazonOrder
from bridge.domain.cancel_reasons import CancelReason, choose_reason
from bridge.domain.cancel_rule import Outcome, check_store, judge_amazon_order
from bridge.domain.messages import MessageKey, render
from bridge.domain.stores import Store
from tests.reference import reference


def _order(status: str, fulfilled_by: str | None = "MERCHANT") -> AmazonOrder:
    return AmazonOrder("171-1234567-1234567", "APJ6JRA9NG5V4", status, fulfilled_by, ("12345678901234",), False)


def _store(order_import: bool = True) -> Store:
    return Store("it", (1,), "A1", "APJ6JRA9NG5V4", "eu", "TOKEN_ENV", order_import, CancelReason.NO_INVENTORY, "it_IT")


@pytest.mark.parametrize(
    ("status", "fulfilled_by", "outcome", "key"),
    [
        ("UNSHIPPED", "MERCHANT", Outcome.ACCEPT, None),
        ("CANCELLED", "MERCHANT", Outcome.ALREADY_CANCELLED, None),
        ("PENDING", "MERCHANT", Outcome.REFUSE, MessageKey.PENDING),
        ("PARTIALLY_SHIPPED", "MERCHANT", Outcome.REFUSE, MessageKey.PARTIALLY_SHIPPED),
        ("SHIPPED", "MERCHANT", Outcome.REFUSE, MessageKey.SHIPPED),
        ("PENDING_AVAILABILITY", "MERCHANT", Outcome.REFUSE, MessageKey.NOT_CANCELABLE),
        ("UNFULFILLABLE", "MERCHANT", Outcome.REFUSE, MessageKey.NOT_CANCELABLE),
        ("BRAND_NEW_STATUS", "MERCHANT", Outcome.REFUSE, MessageKey.NOT_CANCELABLE),
        ("UNSHIPPED", "AMAZON", Outcome.REFUSE, MessageKey.AMAZON_FULFILLED),
        ("CANCELLED", "AMAZON", Outcome.REFUSE, MessageKey.AMAZON_FULFILLED),
        ("UNSHIPPED", None, Outcome.REFUSE, MessageKey.NOT_CANCELABLE),  # unknown fulfiller: fail closed
    ],
)
def test_decision_table(status: str, fulfilled_by: str | None, outcome: Outcome, key: MessageKey | None) -> None:
    decision = judge_amazon_order(_order(status, fulfilled_by))
    assert (decision.outcome, decision.message_key) == (outcome, key)


def test_store_checks() -> None:
    assert check_store(None).message_key is MessageKey.STORE_NOT_CONFIGURED
    assert check_store(_store(order_import=False)).message_key is MessageKey.ORDER_IMPORT_OFF
    assert check_store(_store()) is None


def test_reason() -> None:
    assert choose_reason(True, CancelReason.NO_INVENTORY) is CancelReason.BUYER_CANCELED
    assert choose_reason(False, CancelReason.NO_INVENTORY) is CancelReason.NO_INVENTORY


def test_cancel_reasons_are_exactly_the_schema_enumeration() -> None:
    import re

    xsd = reference("amazon", "xsd", "OrderAcknowledgement.xsd").read_text()
    block = xsd[xsd.index('name="CancelReason"') :]
    block = block[: block.index("</xsd:simpleType>")]
    assert set(re.findall(r'<xsd:enumeration value="([^"]+)"', block)) == {r.value for r in CancelReason}


WORDS = {MessageKey.CANCELED_BY_BUYER, MessageKey.CANCELED_BY_SELLER, MessageKey.CANCELED_BY_AMAZON}
WORDS |= {MessageKey.NO_REASON_GIVEN}


@pytest.mark.parametrize("key", sorted(set(MessageKey) - WORDS))
@pytest.mark.parametrize("locale", ["en_US", "it_IT"])
def test_every_message_exists_in_both_locales_and_names_the_order(key: MessageKey, locale: str) -> None:
    text = render(
        key, locale, amazon_order_id="171-1234567-1234567", amazon_status="X", order_ref="#42", reason="R", feed_id="F",
        answer="A", canceled_by="B", actor="ops", source="console", request_state="ready", request_id="7",
    )  # fmt: skip
    assert "171-1234567-1234567" in text or "#42" in text
    assert "{" not in text


@pytest.mark.parametrize("key", sorted(WORDS))
def test_the_words_put_into_messages_exist_in_both_locales(key: MessageKey) -> None:
    assert render(key, "en_US") and render(key, "it_IT") and render(key, "en_US") != render(key, "it_IT")
