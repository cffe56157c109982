"""Words, not codes: every value of every enumeration a console page can show, every message of the domain that
reaches a page, and every time, through the helpers the pages use, in en_US and it_IT. A bare code fails, and so
does Italian that is still the English."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask_babel import Babel, LazyString

from bridge.domain.amazon_order import CancelledBy, FulfilledBy, FulfillmentStatus
from bridge.domain.cancel_reasons import CancelReason
from bridge.domain.cancel_rule import AMAZON_STATUS_REFUSALS, COMMERCE_REFUSALS, STORE_REFUSALS, Outcome
from bridge.domain.commerce_order import CommerceState
from bridge.domain.marketplaces import MARKETPLACES
from bridge.domain.messages import (
    AMAZON_FULFILLED,
    REFUSED_BY_RULE,
    STATUS_CHANGED,
    VALUE_NAMES,
    MessageKey,
    problem,
    render,
)
from bridge.domain.operators import Role
from bridge.domain.reconciliation import DriftKind
from bridge.domain.records import CancelRequest
from bridge.domain.states import REQUEST_STATES, FeedProcessingStatus, FeedState, RequestState, Source
from bridge.web import console_labels as labels

# (the words, the enumeration whose every value a page may show with them)
ENUMERATIONS: list[tuple[dict[str, LazyString], type[StrEnum]]] = [
    (labels.REQUEST_STATES, RequestState),
    (labels.CANCEL_REASONS, CancelReason),
    (labels.REASON_MEANINGS, CancelReason),
    (labels.AMAZON_STATUSES, FulfillmentStatus),
    (labels.FULFILLED_BY, FulfilledBy),
    (labels.CANCELLED_BY, CancelledBy),
    (labels.SOURCES, Source),
    (labels.ROLES, Role),
    (labels.DRIFTS, DriftKind),
    (labels.COMMERCE_STATES, CommerceState),
    (labels.FEED_PROCESSING, FeedProcessingStatus),
    (labels.FEED_STATES, FeedState),
]
CODES = {value.value for _, enumeration in ENUMERATIONS for value in enumeration}
# Codes a sentence may name as Amazon's own terms (the admin sets them in Seller Central's files), and words that
# are the same in both languages.
AMAZON_TERMS = {reason.value for reason in CancelReason} | {"UTC"}
SAME_IN_BOTH = {"API", "Amazon", "Console"}
ALL_CAPS_OR_SNAKE = re.compile(r"\b(?:[A-Z]{2,}(?:_[A-Z]+)+|[A-Z]{4,}|[a-z]+_[a-z_]+)\b")
ORDER = "171-1234567-1234567"


@pytest.fixture(scope="module")
def app() -> Flask:
    app = Flask("bridge.web")  # its translations folder is the console's
    chosen = {"locale": "en_US"}
    Babel(app, locale_selector=lambda: chosen["locale"], default_locale="en_US")
    app.config["chosen"] = chosen
    return app


def both(app: Flask, say) -> tuple[str, str]:
    """What ``say()`` gives in en_US, then in it_IT."""
    said = []
    for locale in ("en_US", "it_IT"):
        app.config["chosen"]["locale"] = locale
        with app.test_request_context():
            said.append(str(say()))
    return said[0], said[1]


def no_code_in(text: str, unknown_allowed: bool = False) -> None:
    codes = {word for word in ALL_CAPS_OR_SNAKE.findall(text) if word not in AMAZON_TERMS} & (CODES | {"PENDING"})
    assert not codes, f"bare codes {codes} in {text!r}"
    assert unknown_allowed or "?" not in text, f"a value left out: {text!r}"


def translated(english: str, italian: str, unknown_allowed: bool = False) -> None:
    """``unknown_allowed``: a value the page cannot know may read "?" (as in the audit comment)."""
    no_code_in(english, unknown_allowed)
    no_code_in(italian, unknown_allowed)
    assert italian != english or italian in SAME_IN_BOTH, f"not translated: {english!r}"


@pytest.mark.parametrize(("words", "enumeration"), ENUMERATIONS, ids=lambda x: getattr(x, "__name__", ""))
def test_every_value_of_every_enumeration_is_said_in_words(app, words, enumeration) -> None:
    for value in enumeration:
        english, italian = both(app, lambda value=value: labels.label(words, value.value))
        assert value.value in words, f"{enumeration.__name__}.{value.name} has no words: the page would show its code"
        translated(english, italian)


def test_every_step_of_a_requests_timeline_is_said_in_words(app) -> None:
    moves = [(None, state) for state in REQUEST_STATES.entries]
    moves += [(source, target) for source, targets in REQUEST_STATES.moves.items() for target in targets]
    for previous, state in moves:
        translated(*both(app, lambda previous=previous, state=state: labels.timeline_step(previous, state)))


def a_request(**values: object) -> CancelRequest:
    recorded = {
        "commerce_entity_id": 7, "increment_id": "000000007", "store_code": "it", "seller_id": "A1SELLERIT",
        "marketplace_id": "APJ6JRA9NG5V4", "amazon_order_id": ORDER, "amazon_item_ids": ("1",),
        "reason": "NoInventory", "decision": "accept", "source": "console", "actor": "olivia", "id": 3,
        "state": "rejected", "attempts": 1, "next_attempt_at": 0.0, "confirm_checks": 0, "lease_owner": None,
        "lease_expires_at": None, "feed_id": None, "message_id": None, "amazon_result_code": None,
        "amazon_result_description": None, "last_error": None, "created_at": datetime.now(UTC),
        "updated_at": datetime.now(UTC), "completed_at": None,
    }  # fmt: skip
    return CancelRequest(**{**recorded, **values})  # type: ignore[arg-type]


def test_amazons_answers_are_said_as_the_audit_comment_says_them(app) -> None:
    answers = [a_request(amazon_result_code=STATUS_CHANGED, amazon_result_description=s) for s in FulfillmentStatus]
    answers.append(a_request(amazon_result_code=AMAZON_FULFILLED, amazon_result_description="fulfilled by Amazon"))
    # What the worker's last look records as the rule's (Amazon's statuses are recorded as StatusChanged).
    rule = sorted(STORE_REFUSALS | COMMERCE_REFUSALS | {MessageKey.REASON_NOT_ALLOWED})
    answers += [a_request(amazon_result_code=REFUSED_BY_RULE, amazon_result_description=key.value) for key in rule]
    answers.append(a_request(amazon_result_code="18026", amazon_result_description="Order is already shipped."))
    for request in answers:
        english, italian = both(app, lambda request=request: labels.amazon_answer(request))
        # A refusal for a Commerce state outside Commerce's own list: the request does not keep which it was.
        translated(english, italian, request.amazon_result_description == MessageKey.COMMERCE_NOT_CANCELABLE)
        assert ORDER in english and ORDER in italian
    shipped = answers[list(FulfillmentStatus).index(FulfillmentStatus.SHIPPED)]
    assert both(app, lambda: labels.amazon_answer(shipped))[1].count("“Spedito”") == 1


WHY_NOT = [
    *sorted(STORE_REFUSALS | AMAZON_STATUS_REFUSALS | COMMERCE_REFUSALS),
    MessageKey.AMAZON_FULFILLED, MessageKey.CANCEL_UNDER_WAY, MessageKey.ALREADY_COMPLETED, MessageKey.ORDER_NOT_KNOWN,
    Outcome.ALREADY_CANCELLED,
]  # fmt: skip


@pytest.mark.parametrize("why", WHY_NOT)
def test_every_reason_the_order_page_gives_for_no_cancel_is_the_rules_in_words(app, why) -> None:
    english, italian = both(
        app,
        lambda: labels.why_no_cancel(
            why,
            amazon_order_id=ORDER,
            order_ref="#000000007",
            amazon_status="PENDING_AVAILABILITY",
            commerce_state="pending_payment",
            request=a_request(state="submitted"),
        ),
    )
    translated(english, italian)
    if isinstance(why, MessageKey):  # the admin's own words in Commerce, with the codes in them put in words
        assert english.startswith(render(why, "en_US", **dict.fromkeys(VALUE_NAMES, "\0")).split("\0")[0])


@pytest.mark.parametrize("key", [key for key in MessageKey if key.name.startswith("PROBLEM_")])
def test_every_problem_the_bridge_records_reaches_the_page_in_the_users_language(app, key) -> None:
    values = {
        "commerce_state": "holded", "seconds": "900", "error": "HTTP 503", "amazon_status": "SHIPPED",
        "store_code": "it", "amazon_order_id": ORDER, "request_id": "3", "feed_id": "50001",
        "processing_status": "FATAL",
    }  # fmt: skip
    written = problem(key, **values)
    english, italian = both(app, lambda: labels.recorded(written))
    translated(english, italian)
    assert both(app, lambda: labels.recorded("Some library's own error"))[1] == "Some library's own error"


def test_commerce_did_not_cancel_reads_in_italian_on_the_needs_attention_page(app) -> None:
    stored = problem(MessageKey.PROBLEM_COMMERCE_REFUSED)
    assert stored == "Commerce did not cancel the order"  # what the log, the API and the CLI keep reading
    assert both(app, lambda: labels.recorded(stored))[1] == "Commerce non ha annullato l'ordine"


def expected_zone(moment: datetime, zone: str) -> str:
    name = moment.astimezone(ZoneInfo(zone)).tzname() or ""
    return f"UTC{name}" if name[0] in "+-" else name


@pytest.mark.parametrize("moment", [datetime(2026, 1, 15, 6, 34, 12, tzinfo=UTC), datetime(2026, 7, 15, 6, 34, 12,
                                                                                             tzinfo=UTC)])  # fmt: skip
def test_times_are_the_marketplaces_own_with_its_zone_whatever_the_language(app, moment) -> None:
    for marketplace_id, marketplace in MARKETPLACES.items():
        english, italian = both(app, lambda marketplace_id=marketplace_id: labels.when_text(moment, marketplace_id))
        zone = expected_zone(moment, marketplace.time_zone)
        assert english.endswith(f"\u00a0{zone}") and italian.endswith(f"\u00a0{zone}"), (english, italian)
        assert "+0" not in italian.removesuffix(zone)  # Babel's offsets are not the zone's name
    english, italian = both(app, lambda: labels.when_text(moment, "ATVPDKIKX0DER"))
    local = moment.astimezone(ZoneInfo("America/Los_Angeles"))
    assert local.strftime("%-I:%M:%S") in english and local.strftime("%H:%M:%S") in italian  # seconds shown
    assert both(app, lambda: labels.when_text(moment, "APJ6JRA9NG5V4"))[1].endswith(("CET", "CEST"))
