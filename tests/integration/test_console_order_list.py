"""A store's page in the console, through Flask's test client: titled by its marketplace, every order reachable page by
page with the filters kept, a clear answer to an address it cannot show, and empty states that fit the store."""

from __future__ import annotations

import time

import lxml.html
import pytest
from flask.testing import FlaskClient

from bridge.domain.amazon_order import AmazonOrder
from bridge.domain.records import OrderLink
from tests.conftest import RunningBridge
from tests.integration.test_console_pages import PASSWORD, sign_in

NOW = time.time() - 86400


@pytest.fixture
def bridge(start_bridge) -> RunningBridge:
    running = start_bridge()
    running.parts.accounts.create_user("olivia", PASSWORD, "viewer", None)
    running.parts.accounts.create_user("giulia", PASSWORD, "viewer", "it_IT")
    return running


@pytest.fixture
def client(bridge: RunningBridge) -> FlaskClient:
    client = bridge.app.test_client()
    sign_in(client, "olivia")
    return client


def order_id(n: int) -> str:
    return f"113-{n:07d}-{n * 7 % 10**7:07d}"


def seed(bridge: RunningBridge, count: int) -> None:
    """``count`` orders of store us, of every status, a third fulfilled by Amazon; the mirror read to now."""
    statuses = ("UNSHIPPED", "SHIPPED", "PENDING", "CANCELLED", "UNFULFILLABLE", "PARTIALLY_SHIPPED")
    orders = [
        AmazonOrder(order_id(n), "ATVPDKIKX0DER", statuses[n % len(statuses)], "AMAZON" if n % 3 == 0 else "MERCHANT",
                    (), False, last_updated=NOW + n, created=NOW + n)
        for n in range(1, count + 1)
    ]  # fmt: skip
    records = bridge.records
    records.mirror.record("us", orders, seen_at=NOW)
    records.mirror.advance("us", updated_after=NOW, complete_as_of=time.time())
    records.mirror.backfilled_down_to("us", NOW - 30 * 86400, backfilled_at=NOW)
    records.links.remember(
        OrderLink(5000 + n, f"{100000 + n:09d}", 2, order_id(n), "processing") for n in range(1, count + 1)
    )


def page(client: FlaskClient, address: str) -> lxml.html.HtmlElement:
    response = client.get(address)
    assert response.status_code == 200, response.get_data(as_text=True)
    return lxml.html.fromstring(response.get_data(as_text=True))


def listed(html: lxml.html.HtmlElement) -> list[str]:
    return [row.get("id").removeprefix("order-") for row in html.xpath("//table[contains(@class, 'orders')]/tbody/tr")]


def text_of(html: lxml.html.HtmlElement) -> str:
    return " ".join(html.text_content().split())


def test_the_page_is_titled_by_the_stores_marketplace(bridge: RunningBridge, client: FlaskClient) -> None:
    html = page(client, "/console/stores/us")
    assert html.findtext(".//title").startswith("Amazon.com")
    assert html.findtext(".//h1") == "Amazon.com"
    assert text_of(html.xpath("//p[@class='crumbs']")[0]) == "Stores › Amazon.com"


def test_every_order_is_reachable_page_by_page_and_the_filters_stay(bridge: RunningBridge, client: FlaskClient) -> None:
    seed(bridge, 60)
    html, seen = page(client, "/console/stores/us?size=25"), []
    assert "Orders 1–25 of 60" in text_of(html) and not html.xpath("//a[@rel='prev']")
    while True:
        seen += listed(html)
        following = html.xpath("//a[@rel='next']")
        if not following:
            break
        assert "size=25" in following[0].get("href")
        html = page(client, following[0].get("href"))
        assert html.xpath("//a[@rel='prev']")
    assert seen == [order_id(n) for n in range(60, 0, -1)]
    assert "Page 3 of 3" in text_of(html)

    shipped = page(client, "/console/stores/us?status=SHIPPED&size=25&q=113-000000")  # orders 1 to 9
    assert listed(shipped) == [order_id(7), order_id(1)]
    assert "2 orders" in text_of(shipped)
    assert shipped.xpath("//select[@id='status']/option[@selected]")[0].get("value") == "SHIPPED"
    assert shipped.xpath("//input[@id='q']")[0].get("value") == "113-000000"


def test_a_search_finds_an_order_by_part_of_its_commerce_number(bridge: RunningBridge, client: FlaskClient) -> None:
    seed(bridge, 60)
    assert listed(page(client, "/console/stores/us?q=100013")) == [order_id(13)]
    assert listed(page(client, "/console/stores/us?q=%23000100013")) == [order_id(13)]  # as Commerce shows it
    nothing = page(client, "/console/stores/us?q=nothing-like-it")
    assert listed(nothing) == [] and not nothing.xpath("//table")
    assert "No order of this store matches this search and these filters." in text_of(nothing)


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("size=30", "the page size must be 25, 50 or 100"),
        ("page=0", "the page must be a whole number of 1 or more"),
        ("page=two", "the page must be a whole number of 1 or more"),
        ("status=Shipped", "the Amazon status must be one of those the list offers"),
        ("cancel=maybe", "the cancel filter must be one of those the list offers"),
        ("q=" + "1" * 65, "a search is at most 64 characters"),
    ],
)
def test_an_address_the_list_cannot_show_is_refused_saying_why(client: FlaskClient, query: str, words: str) -> None:
    response = client.get(f"/console/stores/us?{query}")
    assert response.status_code == 400
    assert words in response.get_data(as_text=True)


def test_a_page_past_the_last_shows_the_last(bridge: RunningBridge, client: FlaskClient) -> None:
    seed(bridge, 30)
    html = page(client, "/console/stores/us?page=9&size=25")
    assert listed(html) == [order_id(n) for n in range(5, 0, -1)] and "Page 2 of 2" in text_of(html)


def test_empty_states_say_what_fits_the_store(bridge: RunningBridge, client: FlaskClient) -> None:
    import_off = text_of(page(client, "/console/stores/de-import-off"))
    assert "its orders are managed in Seller Central, and the bridge does not read them from Amazon" in import_off
    assert "every few minutes" not in import_off and "Amazon order id" not in import_off  # no table, no headings
    not_read = page(client, "/console/stores/it")
    assert "has not read this store's orders from Amazon yet" in text_of(not_read)
    assert not not_read.xpath("//table") and not not_read.xpath("//form[contains(@class, 'filters')]")
    bridge.records.mirror.advance("it", updated_after=NOW, complete_as_of=time.time())
    assert "still reading this store's earlier orders" in text_of(page(client, "/console/stores/it"))


def test_the_list_speaks_italian(bridge: RunningBridge) -> None:
    seed(bridge, 3)
    client = bridge.app.test_client()
    sign_in(client, "giulia")
    html = page(client, "/console/stores/us?status=SHIPPED")
    assert "1 ordine" in text_of(html) and "Stato Amazon" in text_of(html)
    refused = client.get("/console/stores/us?size=7").get_data(as_text=True)
    assert "25, 50 o 100" in refused
