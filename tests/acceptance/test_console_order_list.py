"""A store's order list in a real headless Chromium: 60 orders of every status, a third fulfilled by Amazon, read from
the Amazon stand-in by the worker's own steps (the mirror keeps them all), each reached by following the pages; a
search by part of an Amazon order id or of a Commerce order number; a status filter that the pages keep.

One bridge, one pair of stand-ins and one browser for the module: the tests only read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from bridge.composition import build_storage, build_worker
from bridge.domain.amazon_order import FulfillmentStatus
from bridge.pipeline.steps.refresh_amazon_mirror import refresh_amazon_mirror
from bridge.pipeline.steps.refresh_commerce_links import refresh_commerce_links
from bridge.settings import load_settings
from bridge.storage.engine import make_engine, upgrade
from bridge.web.app import create_app
from bridge.web.app_services import services_of
from standins.amazon import AmazonStandIn, StandInOrder
from standins.commerce import CommerceStandIn
from standins.server import BackgroundServer
from tests.browser import Console, start_chromium
from tests.seeds import INTEGRATION, MARKETPLACES, REFRESH_TOKENS, SELLERS, STORES_TOML, US_STORE

PASSWORD = "correct horse battery staple"
ORDERS = 60
OTHER_STATUSES = [status for status in FulfillmentStatus if status != FulfillmentStatus.SHIPPED]


def amazon_id(n: int) -> str:
    return f"113-55{n:05d}-88{n:05d}"


def commerce_number(n: int) -> str:
    return f"4{n:08d}"


def status_of(n: int) -> str:
    """Half the orders shipped (enough for two pages of them), the rest of every other status in turn."""
    return FulfillmentStatus.SHIPPED if n % 2 == 0 else OTHER_STATUSES[n // 2 % len(OTHER_STATUSES)]


@dataclass
class Live:
    url: str
    amazon: AmazonStandIn


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, private_key: RSAPrivateKey, public_key_pem: str) -> Iterator[Live]:
    """The bridge over HTTP on loopback with both stand-ins, its mirrors filled by the worker's own steps."""
    folder = tmp_path_factory.mktemp("order-list")
    amazon = AmazonStandIn()
    for seller_id, refresh_token in REFRESH_TOKENS.values():
        amazon.add_seller(seller_id, refresh_token)
    commerce = CommerceStandIn(INTEGRATION)
    servers = [BackgroundServer(amazon.app).start(), BackgroundServer(commerce.app).start()]
    now = datetime.now(UTC)
    for n in range(1, ORDERS + 1):
        created = now - timedelta(hours=7 * n)  # order 1 the newest, order 60 some 17 days old
        fulfilled_by = "AMAZON" if n % 3 == 0 else "MERCHANT"
        amazon.add_order(
            StandInOrder(amazon_id(n), SELLERS[US_STORE], MARKETPLACES[US_STORE], status=status_of(n),
                         fulfilled_by=fulfilled_by, created=created, updated=created + timedelta(minutes=30))
        )  # fmt: skip
        commerce.add_order(
            1000 + n, store_id=US_STORE, payment_method="amazonpayment", po_number=amazon_id(n),
            increment_id=commerce_number(n),
        )  # fmt: skip
    stores_file = folder / "stores.toml"
    stores_file.write_text(STORES_TOML, encoding="utf-8")
    settings = load_settings(environment(folder, servers[0].url, servers[1].url, amazon, stores_file, public_key_pem))
    upgrade(make_engine(settings.database_url))
    app = create_app(settings)
    services_of(app).accounts.create_user("olivia", PASSWORD, "viewer", None)
    storage = build_storage(settings.database_url)
    ctx = build_worker(settings, "test-worker", storage)
    refresh_commerce_links(ctx)
    for _ in range(10):  # the backfill reads a window a round, each twice as long as the last
        refresh_amazon_mirror(ctx)
        if storage.mirror.cursor("us").backfilled_at is not None:
            break
    assert len(storage.mirror.get_many(map(amazon_id, range(1, ORDERS + 1)), MARKETPLACES[US_STORE])) == ORDERS
    bridge = BackgroundServer(app).start()
    yield Live(bridge.url, amazon)
    for server in (bridge, *servers):
        server.stop()
    storage.engine.dispose()
    services_of(app).engine.dispose()


def environment(
    folder: Path, amazon_url: str, commerce_url: str, amazon: AmazonStandIn, stores_file: Path, public_key_pem: str
) -> dict[str, str]:
    return {
        "DATABASE_URL": f"sqlite:///{folder / 'bridge.sqlite'}",
        "BRIDGE_INSTANCE_PATH": str(folder / "instance"),
        "COMMERCE_BASE_URL": commerce_url,
        "COMMERCE_ACCESS_TOKEN": INTEGRATION.access_token,
        "COMMERCE_WEBHOOK_PUBLIC_KEY": public_key_pem,
        "LWA_CLIENT_ID": amazon.client_id,
        "LWA_CLIENT_SECRET": amazon.client_secret,
        "LWA_TOKEN_URL": f"{amazon_url}/auth/o2/token",
        "SPAPI_ENDPOINT": amazon_url,
        "BRIDGE_STORES_FILE": str(stores_file),
        **{name: token for name, (_, token) in REFRESH_TOKENS.items()},
    }


@pytest.fixture(scope="module")
def console(live: Live) -> Iterator[Console]:
    driver: WebDriver = start_chromium()
    console = Console(driver, live.url)
    console.sign_in("olivia", PASSWORD)
    yield console
    driver.quit()


def listed(console: Console) -> list[str]:
    rows = console.driver.find_elements(By.CSS_SELECTOR, "table.orders tbody tr")
    return [row.get_attribute("id").removeprefix("order-") for row in rows]


def next_page(console: Console) -> bool:
    """Follow the page's rel=next link; False on the last page."""
    links = console.driver.find_elements(By.CSS_SELECTOR, "a[rel=next]")
    if links:
        console.follow(links[0])
    return bool(links)


def search(console: Console, words: str) -> None:
    box = console.driver.find_element(By.ID, "q")
    box.clear()
    box.send_keys(words)
    console.follow(console.driver.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]"))


def test_every_order_is_reached_by_following_the_pages(console: Console) -> None:
    console.open("/console/stores")
    console.follow(console.driver.find_element(By.ID, "store-us").find_element(By.LINK_TEXT, "View store"))
    assert console.heading() == "Amazon.com" and console.driver.title.startswith("Amazon.com")
    assert "Orders 1–50 of 60" in console.text()
    console.choose("size", "25")
    console.follow(console.driver.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]"))
    seen = listed(console)
    while next_page(console):
        seen += listed(console)
        assert console.driver.find_elements(By.CSS_SELECTOR, "a[rel=prev]")
    assert seen == [amazon_id(n) for n in range(1, ORDERS + 1)]  # newest first, every one, none twice
    assert "Orders 51–60 of 60" in console.text() and "Page 3 of 3" in console.text()
    rows = console.driver.find_element(By.CSS_SELECTOR, "table.orders tbody").text
    assert "Shipped" in rows and "Amazon (FBA)" in rows  # shipped and Amazon-fulfilled orders are listed too


def test_a_search_finds_an_order_by_part_of_either_number(console: Console) -> None:
    console.open("/console/stores/us")
    search(console, "5500013")  # part of the Amazon order id 113-5500013-8800013
    assert listed(console) == [amazon_id(13)]
    search(console, "0000013")  # part of the Commerce order number 400000013
    assert listed(console) == [amazon_id(13)]
    assert commerce_number(13) in console.driver.find_element(By.ID, f"order-{amazon_id(13)}").text
    search(console, "99999")
    assert listed(console) == [] and "No order of this store matches" in console.text()


def test_a_status_filter_stays_across_the_pages(console: Console) -> None:
    console.open("/console/stores/us?size=25")
    console.choose("status", "SHIPPED")
    search(console, "")
    first = listed(console)
    assert len(first) == 25 and "Orders 1–25 of 30" in console.text()
    assert next_page(console)
    assert "status=SHIPPED" in console.driver.current_url and "size=25" in console.driver.current_url
    second = listed(console)
    assert first + second == [amazon_id(n) for n in range(1, ORDERS + 1) if status_of(n) == "SHIPPED"]
    statuses = {row.text for row in console.driver.find_elements(By.CSS_SELECTOR, "table.orders tbody td:nth-child(3)")}
    assert {status.split(" ")[0] for status in statuses} == {"Shipped"}
    assert console.driver.find_element(By.CSS_SELECTOR, "#status option:checked").get_attribute("value") == "SHIPPED"
    assert not next_page(console)
