"""The console in a real headless Chromium: an operator signs in, finds an order and cancels it with a reason of
their choosing; the bridge serves over HTTP on loopback, its clients call the Amazon and Commerce stand-ins over
HTTP, and the worker's own rounds carry the cancel to Amazon and the Commerce order to Complete."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from bridge.deadline import Deadline
from bridge.domain.states import RequestState, Source
from bridge.pipeline.worker_context import WorkerContext
from bridge.services.cancel_intake import OrderRef
from tests.browser import Console
from tests.conftest import RunningBridge
from tests.pipeline_helpers import FAST_PIPELINE, drive
from tests.seeds import US_STORE, amazon_order

PASSWORD = "correct horse battery staple"
# A cancel form posted by a script with the page's own CSRF token, as a crafted page or a tampered form would.
FORGED_CANCEL = """const form = document.createElement('form'); form.method = 'post'; form.action = arguments[0];
for (const [name, value] of [['csrf_token', document.querySelector('input[name=csrf_token]').value],
                             ['reason', arguments[1]], ['confirm', 'yes']]) {
  const input = document.createElement('input'); input.name = name; input.value = value; form.append(input);
}
document.body.append(form); form.submit();"""


@pytest.fixture
def bridge(start_bridge) -> RunningBridge:
    running = start_bridge(**FAST_PIPELINE)
    accounts = running.parts.accounts
    accounts.create_user("olivia", PASSWORD, "operator", None)
    accounts.create_user("victor", PASSWORD, "viewer", None)
    return running


@pytest.fixture
def ctx(bridge: RunningBridge) -> WorkerContext:
    return bridge.worker()


@pytest.fixture
def console(driver: WebDriver, bridge: RunningBridge) -> Iterator[Console]:
    driver.delete_all_cookies()
    yield Console(driver, bridge.url)
    driver.delete_all_cookies()


def mirrored(bridge: RunningBridge, ctx: WorkerContext, *amazon_ids: str) -> None:
    """The worker's rounds until both mirrors hold these orders (as they would a few minutes after import)."""

    def known() -> bool:
        links = bridge.records.links.of_amazon_orders(amazon_ids)
        return all(bridge.records.mirror.find(a) is not None and a in links for a in amazon_ids)

    drive(ctx, known)


def test_an_operator_cancels_an_unshipped_order_with_the_reason_they_choose(bridge, ctx, console, commerce, amazon):
    unshipped = amazon_order(commerce, amazon, 20)
    others = [amazon_order(commerce, amazon, entity_id) for entity_id in (21, 22)]
    amazon.orders[others[0]].buyer_requested_cancel = True
    mirrored(bridge, ctx, unshipped, *others)

    console.open("/console/")
    assert "/console/sign-in" in console.driver.current_url  # nothing without signing in
    console.sign_in("olivia", PASSWORD)
    assert console.heading() == "Amazon stores"
    card = console.driver.find_element(By.ID, "store-us")
    assert "Amazon.com" in card.text and "On" in card.text

    console.follow(card.find_element(By.LINK_TEXT, "View store"))
    rows = console.driver.find_element(By.CSS_SELECTOR, "table.orders tbody").text
    assert unshipped in rows and "000000020" in rows and "Buyer asked to cancel" in rows
    console.screenshot("store")

    console.click_link(unshipped)
    assert console.driver.find_element(By.ID, "amazon-status").text == "Unshipped"
    assert console.driver.find_element(By.ID, "commerce-order").text == "000000020"
    console.click("cancel-order")
    reason = console.driver.find_element(By.ID, "reason")
    assert reason.get_attribute("value") == "GeneralAdjustment"  # the store's default: the buyer did not ask
    assert len(reason.find_elements(By.TAG_NAME, "option")) == 9  # BuyerCanceled only when the buyer asked
    console.choose("reason", "CustomerExchange")
    console.driver.find_element(By.ID, "confirm").click()
    console.click("confirm-cancel")
    assert "Cancel requested with reason Customer exchange" in console.text()

    [request] = bridge.cancel_requests()
    assert (request.state, request.source, request.actor, request.reason) == (
        RequestState.PENDING, "console", "olivia", "CustomerExchange",
    )  # fmt: skip
    drive(ctx, lambda: commerce.orders[20]["state"] == "complete")

    assert amazon.orders[unshipped].status == "CANCELLED"
    assert amazon.orders[unshipped].cancel_reason == "CustomerExchange"
    [feed] = amazon.feed_service.feeds.values()
    assert b"<CancelReason>CustomerExchange</CancelReason>" in feed.content
    assert amazon.cancel_messages[unshipped] == 1
    [comment] = [history["comment"] for history in commerce.orders[20]["status_histories"]]
    assert "olivia" in comment and "CustomerExchange" in comment and feed.feed_id in comment

    console.driver.refresh()
    assert console.driver.find_element(By.ID, "request-state").text == "Canceled at Amazon; Complete in Commerce"
    assert console.driver.find_element(By.ID, "amazon-feed-id").text == feed.feed_id
    timeline = console.driver.find_element(By.ID, "timeline").text
    assert timeline.splitlines()[0].endswith("Cancel asked for; checking the order at Amazon · olivia")
    assert "Amazon accepted the feed" in timeline
    assert timeline.splitlines()[-1].endswith("Commerce order set to Complete, with an audit comment")
    assert not console.has("cancel-order")  # canceled: nothing more to cancel
    assert console.driver.find_element(By.ID, "commerce-state").text == "Complete"
    console.screenshot("order-details")
    console.click_link("Stores")
    assert "1 Canceled at Amazon; Complete in Commerce" in console.driver.find_element(By.ID, "store-us").text
    console.screenshot("stores")


def offers_no_cancel(console: Console, unshipped: str, heading: str) -> None:
    """An Unshipped order's page without *Cancel order*, and its cancel form, typed by hand, answered ``heading``."""
    console.open(f"/console/orders/{unshipped}")
    assert console.driver.find_element(By.ID, "amazon-status").text == "Unshipped"
    assert not console.has("cancel-order")
    console.open(f"/console/orders/{unshipped}/cancel")
    assert console.heading() == heading


def test_a_shipped_order_shows_no_cancel_button(bridge, ctx, console, commerce, amazon):
    shipped = amazon_order(commerce, amazon, 30, status="SHIPPED")
    unshipped = amazon_order(commerce, amazon, 31)
    mirrored(bridge, ctx, unshipped)
    store = bridge.settings.stores.for_commerce_store(US_STORE)
    ctx.amazon_status.live(store, shipped, Deadline(5))  # as the worker's next refresh would see it
    links = bridge.records.links
    drive(ctx, lambda: 30 in {link.commerce_entity_id for link in links.of_amazon_orders([shipped])[shipped]})

    console.sign_in("olivia", PASSWORD)
    console.open(f"/console/orders/{unshipped}")
    assert console.has("cancel-order")
    console.open(f"/console/orders/{shipped}")
    assert console.driver.find_element(By.ID, "amazon-status").text == "Shipped"
    assert not console.has("cancel-order")
    console.open(f"/console/orders/{shipped}/cancel")  # typed by hand: still no way to cancel
    assert console.heading() == "Not found"
    assert bridge.cancel_requests() == []


def test_a_viewer_sees_orders_but_cannot_cancel(bridge, ctx, console, commerce, amazon):
    unshipped = amazon_order(commerce, amazon, 40)
    mirrored(bridge, ctx, unshipped)
    console.sign_in("victor", PASSWORD)
    offers_no_cancel(console, unshipped, "Not allowed")
    # A forged form, with the viewer's own valid CSRF token, is refused too.
    console.submit_by_script(FORGED_CANCEL, f"{bridge.url}/console/orders/{unshipped}/cancel", "NoInventory")
    assert console.heading() == "Not allowed"
    assert bridge.cancel_requests() == []


def test_a_form_posted_without_its_csrf_token_is_refused(bridge, ctx, console, commerce, amazon):
    unshipped = amazon_order(commerce, amazon, 50)
    mirrored(bridge, ctx, unshipped)
    console.sign_in("olivia", PASSWORD)
    console.open(f"/console/orders/{unshipped}/cancel")
    console.driver.execute_script("document.querySelector('form[action$=\"/cancel\"] input[name=csrf_token]').remove()")
    console.driver.find_element(By.ID, "confirm").click()
    console.click("confirm-cancel")
    assert console.heading() == "The form was refused"
    assert bridge.cancel_requests() == []
    assert amazon.orders[unshipped].status == "UNSHIPPED"


def test_five_wrong_passwords_slow_the_next_sign_in(bridge, console):
    for _ in range(5):
        console.sign_in("olivia", "not the password")
        assert console.driver.find_element(By.ID, "sign-in-problem").text == "Wrong name or password."
    console.sign_in("olivia", PASSWORD)  # the right one, too soon: refused without being checked
    problem = console.driver.find_element(By.ID, "sign-in-problem").text
    assert problem.startswith("Too many failed sign-ins. Try again in ")
    console.open("/console/stores")
    assert "/console/sign-in" in console.driver.current_url
    assert bridge.records.sign_in_failures.of("olivia").count == 5


def test_signing_out_ends_the_session_a_copied_cookie_included_under_the_consoles_strict_policy(bridge, console):
    """The pages keep their look and their forms under the Content-Security-Policy (the console's own stylesheet,
    forms posted to itself), and a cookie copied before signing out opens nothing afterwards."""
    console.sign_in("olivia", PASSWORD)
    assert console.heading() == "Amazon stores"
    topbar = console.driver.find_element(By.CSS_SELECTOR, "header.topbar")
    assert topbar.value_of_css_property("background-color") == "rgba(35, 47, 62, 1)"  # the stylesheet applied
    copied = console.driver.get_cookie("bridge_session")
    console.follow(console.driver.find_element(By.CSS_SELECTOR, "form.who button"))
    assert console.heading() == "Sign in"
    console.driver.add_cookie({"name": "bridge_session", "value": copied["value"], "path": "/"})
    console.open("/console/stores")
    assert console.heading() == "Sign in" and "/console/sign-in" in console.driver.current_url


def test_needs_attention_lists_what_needs_a_person_and_operators_retry(bridge, ctx, console, commerce, amazon):
    failing = amazon_order(commerce, amazon, 60)
    drifting = amazon_order(commerce, amazon, 61)
    mirrored(bridge, ctx, failing, drifting)
    # A cancel sent through the API that failed for good, and an order an admin canceled in Commerce while its
    # hooks were switched off (Amazon still has it Unshipped).
    answer = bridge.parts.intake.cancel_at_bridge(
        OrderRef(amazon_order_id=failing), None, Source.API, "robot", Deadline(5)
    )
    [held] = bridge.parts.cancel_requests.claim("test", {RequestState.PENDING}, 1e12, 60, 1)
    bridge.parts.cancel_requests.move(held, "test", RequestState.FAILED, last_error="feed FATAL five times")
    commerce.cancel_hook = None
    assert commerce.cancel(61) == (True, None)
    drive(ctx, lambda: bridge.records.links.find(61).commerce_state == "canceled")
    assert answer.request is not None

    console.sign_in("olivia", PASSWORD)
    console.click_link("Needs attention")
    row = console.driver.find_element(By.ID, f"request-{answer.request.id}")
    assert failing in row.text and "Failed: an operator must decide" in row.text and "feed FATAL" in row.text
    drift = console.driver.find_element(By.ID, "attention-drift").text
    assert drifting in drift and "it may ship" in drift
    console.screenshot("needs-attention")

    console.follow(row.find_element(By.CSS_SELECTOR, "button.retry"))
    assert f"Request #{answer.request.id} starts over: Checking the order at Amazon." in console.text()
    retried = bridge.parts.cancel_requests.get(answer.request.id)
    assert retried.state == RequestState.PENDING  # started at the bridge: no Commerce cancel to wait for
    assert [event.actor for event in bridge.parts.request_queries.timeline(retried.id)][-1] == "olivia"


@pytest.mark.parametrize(("state", "words"), [("holded", "is on hold"), ("payment_review", "is in payment review"),
                                              ("closed", "is closed (refunded)")])  # fmt: skip
def test_an_order_commerce_would_not_cancel_has_no_cancel_and_a_forged_one_is_refused(
    bridge, ctx, console, commerce, amazon, state, words
):
    held = amazon_order(commerce, amazon, 70)
    commerce.orders[70]["state"] = commerce.orders[70]["status"] = state
    mirrored(bridge, ctx, held)
    console.sign_in("olivia", PASSWORD)
    offers_no_cancel(console, held, "Not found")
    console.open(f"/console/orders/{held}")
    console.submit_by_script(FORGED_CANCEL, f"{bridge.url}/console/orders/{held}/cancel", "NoInventory")
    assert f"Commerce order #000000070 {words}" in console.text()
    assert bridge.cancel_requests() == []
    assert amazon.orders[held].status == "UNSHIPPED" and commerce.orders[70]["state"] == state


def test_buyer_canceled_is_offered_only_when_the_buyer_asked(bridge, ctx, console, commerce, amazon):
    plain = amazon_order(commerce, amazon, 80)
    asked = amazon_order(commerce, amazon, 81, buyer_requested_cancel=True)
    mirrored(bridge, ctx, plain, asked)
    console.sign_in("olivia", PASSWORD)

    console.open(f"/console/orders/{plain}/cancel")
    options = console.driver.find_elements(By.CSS_SELECTOR, "#reason option")
    assert len(options) == 9 and "BuyerCanceled" not in [o.get_attribute("value") for o in options]
    assert console.driver.find_element(By.CSS_SELECTOR, "#reason option:checked").get_attribute("value") == (
        "GeneralAdjustment"  # the us store's default
    )
    meanings = console.driver.find_element(By.ID, "reason-meanings").text
    assert "such as a pricing error" in meanings and "fraud assessment" in meanings
    console.submit_by_script(FORGED_CANCEL, f"{bridge.url}/console/orders/{plain}/cancel", "BuyerCanceled")
    assert "has not asked Amazon to cancel" in console.text() and bridge.cancel_requests() == []

    console.open(f"/console/orders/{asked}/cancel")
    assert console.driver.find_element(By.CSS_SELECTOR, "#reason option:checked").get_attribute("value") == (
        "BuyerCanceled"
    )
    assert len(console.driver.find_elements(By.CSS_SELECTOR, "#reason option")) == 10


def test_a_rejected_cancel_says_what_to_do_instead_of_offering_retry(bridge, ctx, console, commerce, amazon):
    shipping = amazon_order(commerce, amazon, 90)
    mirrored(bridge, ctx, shipping)
    answer = bridge.parts.intake.cancel_at_bridge(
        OrderRef(amazon_order_id=shipping), None, Source.API, "robot", Deadline(5)
    )
    assert answer.request is not None
    amazon.set_status(shipping, "SHIPPED")  # shipped before the worker's last look
    drive(ctx, lambda: [r.state for r in bridge.cancel_requests()] == ["rejected"])
    console.sign_in("olivia", PASSWORD)
    console.click_link("Needs attention")
    row = console.driver.find_element(By.ID, f"request-{answer.request.id}")
    assert not row.find_elements(By.CSS_SELECTOR, "button.retry")
    assert "handle it in Amazon Seller Central" in row.text
