"""The cancel rule and reason choice, as plain functions (no HTTP, no database)."""

from __future__ import annotations

import pytest

from bridge.domain.amazon_order import AmazonOrder
from bridge.domain.cancel_reasons import MEANINGS, CancelReason, allowed_reasons, choose_reason
from bridge.domain.cancel_rule import (
    AMAZON_STATUS_REFUSALS,
    COMMERCE_REFUSALS,
    Outcome,
    before_amazon,
    check_store,
    decide,
    judge_amazon_order,
    may_overwrite_with_complete,
)
from bridge.domain.messages import MessageKey, render
from bridge.domain.states import Source
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
# A request's last problem is kept on the request, which names its order (tests/unit/test_console_words.py).
PROBLEMS = {key for key in MessageKey if key.name.startswith("PROBLEM_")}


@pytest.mark.parametrize("key", sorted(set(MessageKey) - WORDS - PROBLEMS))
@pytest.mark.parametrize("locale", ["en_US", "it_IT"])
def test_every_message_exists_in_both_locales_and_names_the_order(key: MessageKey, locale: str) -> None:
    text = render(
        key, locale, amazon_order_id="171-1234567-1234567", amazon_status="X", order_ref="#42", reason="R", feed_id="F",
        answer="A", canceled_by="B", actor="ops", source="console", request_state="ready", request_id="7",
        commerce_state="holded", why="W",
    )  # fmt: skip
    assert "171-1234567-1234567" in text or "#42" in text
    assert "{" not in text


@pytest.mark.parametrize("key", sorted(WORDS))
def test_the_words_put_into_messages_exist_in_both_locales(key: MessageKey) -> None:
    assert render(key, "en_US") and render(key, "it_IT") and render(key, "en_US") != render(key, "it_IT")


# --- one rule for every door ---------------------------------------------------------------------------------------

BRIDGE_DOORS = (Source.CONSOLE, Source.API, Source.BUYER_REQUEST)


@pytest.mark.parametrize("source", BRIDGE_DOORS)
@pytest.mark.parametrize(
    ("commerce_state", "key"),
    [
        ("holded", MessageKey.COMMERCE_ON_HOLD),
        ("payment_review", MessageKey.COMMERCE_PAYMENT_REVIEW),
        ("closed", MessageKey.COMMERCE_CLOSED),
        ("canceled", MessageKey.COMMERCE_CANCELED),
        ("complete", MessageKey.COMMERCE_COMPLETE),
        ("", MessageKey.COMMERCE_NOT_CANCELABLE),  # not read: fail closed
        ("a_custom_state", MessageKey.COMMERCE_NOT_CANCELABLE),
    ],
)
def test_the_bridge_cancels_only_what_commerce_itself_could(source: Source, commerce_state: str, key: MessageKey):
    decision = decide(_store(), source, commerce_state, _order("UNSHIPPED"), CancelReason.NO_INVENTORY)
    assert (decision.outcome, decision.message_key, decision.code) == (Outcome.REFUSE, key, key.value)
    assert key in COMMERCE_REFUSALS


@pytest.mark.parametrize("commerce_state", ["new", "pending_payment", "processing"])
def test_an_open_order_commerce_could_cancel_goes_on(commerce_state: str) -> None:
    decision = decide(_store(), Source.API, commerce_state, _order("UNSHIPPED"), CancelReason.NO_INVENTORY)
    assert (decision.outcome, decision.code) == (Outcome.ACCEPT, "accept")


def test_commerce_s_own_cancel_is_decided_by_commerce_and_the_rest_by_the_same_rule() -> None:
    """The hook's door: Commerce's canCancel() judges the Commerce order; the store and Amazon are judged alike."""
    assert decide(_store(), Source.COMMERCE, None, _order("UNSHIPPED"), CancelReason.NO_INVENTORY).outcome is (
        Outcome.ACCEPT
    )
    for source in (Source.COMMERCE, *BRIDGE_DOORS):
        off = decide(_store(order_import=False), source, "processing", _order("UNSHIPPED"), CancelReason.NO_INVENTORY)
        assert off.message_key is MessageKey.ORDER_IMPORT_OFF
        shipped = decide(_store(), source, "processing", _order("SHIPPED"), CancelReason.NO_INVENTORY)
        assert shipped.message_key is MessageKey.SHIPPED and shipped.message_key in AMAZON_STATUS_REFUSALS


def test_the_store_and_commerce_are_checked_before_amazon_is_asked() -> None:
    assert before_amazon(None, Source.API, "processing").message_key is MessageKey.STORE_NOT_CONFIGURED
    assert before_amazon(_store(), Source.API, "holded").message_key is MessageKey.COMMERCE_ON_HOLD
    assert before_amazon(_store(), Source.COMMERCE, None) is None


def test_buyer_canceled_fits_only_an_order_whose_buyer_asked() -> None:
    asked = AmazonOrder("171-1234567-1234567", "APJ6JRA9NG5V4", "UNSHIPPED", "MERCHANT", ("1",), True)
    assert decide(_store(), Source.API, "processing", asked, CancelReason.BUYER_CANCELED).outcome is Outcome.ACCEPT
    refused = decide(_store(), Source.API, "processing", _order("UNSHIPPED"), CancelReason.BUYER_CANCELED)
    assert refused.message_key is MessageKey.REASON_NOT_ALLOWED
    assert CancelReason.BUYER_CANCELED not in allowed_reasons(False) and len(allowed_reasons(False)) == 9
    assert allowed_reasons(True) == tuple(CancelReason)
    assert set(MEANINGS) == set(CancelReason) and all(MEANINGS.values())


@pytest.mark.parametrize(
    ("source", "commerce_state", "overwrites"),
    [
        (Source.COMMERCE, "canceled", True),
        (Source.COMMERCE, "closed", False),  # refunded: a comment only, whoever canceled
        (Source.AMAZON, "processing", True),  # a cancel made at Amazon is reflected as Amazon Sales Channel did
        (Source.AMAZON, "holded", True),
        (Source.AMAZON, "closed", False),
        (Source.CONSOLE, "processing", True),
        (Source.API, "complete", True),  # written already (a write-back resumed after a crash)
        (Source.API, "holded", False),  # put on hold meanwhile: Commerce could not have canceled it
        (Source.BUYER_REQUEST, "payment_review", False),
        (Source.CONSOLE, "closed", False),
    ],
)
def test_complete_is_never_written_over_an_order_commerce_could_not_cancel(
    source: Source, commerce_state: str, overwrites: bool
) -> None:
    assert may_overwrite_with_complete(source, commerce_state) is overwrites
