"""The console a seller uses every day, in a real headless Chromium: times in the marketplace's own zone, a reason
wherever *Cancel order* is missing, an order page that follows its cancel to the end by itself, and every page read
on a 390-pixel phone, in English and Italian.

One bridge (with its stand-ins, served on loopback) for the whole module: the orders are seeded and mirrored once.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from bridge.composition import build_worker
from bridge.deadline import Deadline
from bridge.domain.marketplaces import MARKETPLACES
from bridge.pipeline.worker_context import WorkerContext
from bridge.settings import load_settings
from bridge.storage.engine import make_engine, upgrade
from bridge.web.app import create_app
from standins.amazon import AmazonStandIn
from standins.commerce import CommerceStandIn
from standins.server import BackgroundServer
from tests.browser import PAGE_SECONDS, Console
from tests.conftest import RunningBridge
from tests.pipeline_helpers import FAST_PIPELINE, drive
from tests.reference import optional_reference
from tests.seeds import IMPORT_OFF_STORE, INTEGRATION, IT_STORE, REFRESH_TOKENS, STORES_TOML, amazon_order

PASSWORD = "correct horse battery staple"
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
FOLLOW_DEADLINE = 90  # seconds for a cancel to go from the form to Complete, page reloads included
COMPLETE = "Canceled at Amazon; Complete in Commerce"


@dataclass
class World:
    bridge: RunningBridge
    amazon: AmazonStandIn
    commerce: CommerceStandIn
    ctx: WorkerContext
    orders: dict[str, str]  # what each seeded order is for -> its Amazon order id
    entities: dict[str, int]  # ... -> its Commerce entity id


SEEDS: dict[str, tuple[int, dict[str, object]]] = {
    "us": (20, {}),
    "it": (21, {"store_id": IT_STORE}),
    "fba": (22, {"fulfilled_by": "AMAZON"}),
    "shipped": (23, {"status": "SHIPPED"}),
    "held": (24, {}),
    "import_off": (25, {"store_id": IMPORT_OFF_STORE}),
    "to_cancel": (26, {}),
    "not_canceled": (27, {}),
}
READ_LIVE = ("fba", "shipped", "import_off")  # orders the worker's mirror refresh leaves out: read as a page would


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, private_key: RSAPrivateKey, public_key_pem: str) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("console-pages")
    amazon = AmazonStandIn(xsd_dir=optional_reference("amazon", "xsd"))
    for seller_id, refresh_token in REFRESH_TOKENS.values():
        amazon.add_seller(seller_id, refresh_token)
    commerce = CommerceStandIn(INTEGRATION)
    servers = [BackgroundServer(amazon.app).start(), BackgroundServer(commerce.app).start()]
    amazon.url, commerce.url = servers[0].url, servers[1].url  # type: ignore[attr-defined]
    (folder / "stores.toml").write_text(STORES_TOML, encoding="utf-8")
    settings = load_settings({
        "DATABASE_URL": f"sqlite:///{folder / 'bridge.sqlite'}", "BRIDGE_INSTANCE_PATH": str(folder / "instance"),
        "COMMERCE_BASE_URL": commerce.url, "COMMERCE_ACCESS_TOKEN": INTEGRATION.access_token,  # type: ignore[attr-defined]
        "COMMERCE_WEBHOOK_PUBLIC_KEY": public_key_pem, "LWA_CLIENT_ID": amazon.client_id,
        "LWA_CLIENT_SECRET": amazon.client_secret, "LWA_TOKEN_URL": f"{amazon.url}/auth/o2/token",  # type: ignore[attr-defined]
        "SPAPI_ENDPOINT": amazon.url, "BRIDGE_STORES_FILE": str(folder / "stores.toml"),  # type: ignore[attr-defined]
        **{name: token for name, (_, token) in REFRESH_TOKENS.items()}, **FAST_PIPELINE,
    })  # fmt: skip
    upgrade(make_engine(settings.database_url))
    app = create_app(settings)
    servers.append(BackgroundServer(app).start())
    bridge = RunningBridge(app, settings, servers[-1].url, private_key)
    commerce.cancel_hook = bridge.http_hook()
    bridge.parts.accounts.create_user("olivia", PASSWORD, "operator", "en_US")
    bridge.parts.accounts.create_user("giulia", PASSWORD, "operator", "it_IT")
    orders = {name: amazon_order(commerce, amazon, entity, **more) for name, (entity, more) in SEEDS.items()}  # type: ignore[arg-type]
    entities = {name: entity for name, (entity, _) in SEEDS.items()}
    commerce.orders[entities["held"]]["state"] = commerce.orders[entities["held"]]["status"] = "holded"
    ctx = build_worker(settings, "console-pages-worker", bridge.records)
    for name in READ_LIVE:
        store = settings.stores.for_commerce_store(commerce.orders[entities[name]]["store_id"])
        ctx.amazon_status.live(store, orders[name], Deadline(5))  # as the order page's store would have it
    wanted = list(orders.values())

    def mirrored() -> bool:
        links = bridge.records.links.of_amazon_orders(wanted)
        return all(bridge.records.mirror.find(a) is not None and a in links for a in wanted)

    drive(ctx, mirrored)
    # An order whose cancel Commerce refused (its after hook said so): it waits on Needs attention.
    intake = bridge.parts.intake
    assert intake.before_cancel(entities["not_canceled"], "test", Deadline(5)).op == "success"
    assert intake.after_cancel(entities["not_canceled"], False) == "not_canceled"
    yield World(bridge, amazon, commerce, ctx, orders, entities)
    for server in servers:
        server.stop()
    bridge.parts.engine.dispose()
    bridge.records.engine.dispose()


@pytest.fixture
def console(driver: WebDriver, world: World) -> Iterator[Console]:
    driver.delete_all_cookies()
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    yield Console(driver, world.bridge.url)
    driver.delete_all_cookies()


def signed_in_as(console: Console, name: str) -> Console:
    console.driver.delete_all_cookies()
    console.open("/console/sign-in")  # a form of this session's own
    console.sign_in(name, PASSWORD)
    assert "/console/sign-in" not in console.driver.current_url
    return console


def local_zone(world: World, name: str) -> str:
    """The zone abbreviation the order's date must carry, worked out from the date itself (PST or PDT...)."""
    order = world.amazon.orders[world.orders[name]]
    zone = ZoneInfo(MARKETPLACES[order.marketplace_id].time_zone)
    return order.created.astimezone(zone).tzname() or ""


@pytest.mark.parametrize(("name", "zones"), [("us", {"PST", "PDT"}), ("it", {"CET", "CEST"})])
@pytest.mark.parametrize("user", ["olivia", "giulia"])
def test_times_are_the_marketplaces_own_with_its_zone_and_utc_in_the_title(world, console, name, zones, user):
    expected = local_zone(world, name)
    assert expected in zones
    signed_in_as(console, user).open(f"/console/orders/{world.orders[name]}")
    shown = console.driver.find_element(By.CSS_SELECTOR, "#order-date time")
    created = world.amazon.orders[world.orders[name]].created.astimezone(UTC)
    assert shown.text.endswith(f" {expected}")
    local = created.astimezone(ZoneInfo(MARKETPLACES[world.amazon.orders[world.orders[name]].marketplace_id].time_zone))
    assert local.strftime("%M:%S") in shown.text  # seconds, in the marketplace's time
    assert shown.get_attribute("title") == created.strftime("%Y-%m-%d %H:%M:%S UTC")
    assert shown.get_attribute("datetime") == created.strftime("%Y-%m-%dT%H:%M:%SZ")


NO_CANCEL = {
    "fba": ("fulfilled by Amazon: it can only be canceled in Amazon Seller Central", "è evaso da Amazon"),
    "shipped": ("handle returns and exchanges in Amazon Seller Central", "i resi e gli scambi"),
    "held": ("release the hold in Commerce first", "rimuovi prima l'attesa in Commerce"),
    "import_off": ("Order import is off", "L'importazione degli ordini è disattivata"),
}


@pytest.mark.parametrize("name", sorted(NO_CANCEL))
def test_where_cancel_order_is_missing_the_page_says_why_in_the_rules_words(world, console, name):
    for user, words in zip(("olivia", "giulia"), NO_CANCEL[name], strict=True):
        signed_in_as(console, user).open(f"/console/orders/{world.orders[name]}")
        assert not console.has("cancel-order")
        assert not console.driver.find_elements(By.CSS_SELECTOR, "a[href$='/cancel']")  # no way to the form at all
        assert words in console.driver.find_element(By.ID, "no-cancel").text
        assert world.orders[name] in console.driver.find_element(By.ID, "no-cancel").text


def test_the_order_page_follows_its_cancel_until_it_is_complete(world, console):
    order = world.orders["to_cancel"]
    signed_in_as(console, "olivia").open(f"/console/orders/{order}")
    assert not refreshes(console)  # nothing under way: the page keeps still
    console.click("cancel-order")
    console.choose("reason", "NoInventory")
    console.driver.find_element(By.ID, "confirm").click()
    console.click("confirm-cancel")
    assert console.driver.current_url == f"{world.bridge.url}/console/orders/{order}"  # lands on the order's page
    assert refreshes(console)
    assert f"A cancel of Amazon order {order} is already" in console.driver.find_element(By.ID, "no-cancel").text
    entity = world.entities["to_cancel"]
    with worker_until(world.ctx, lambda: world.commerce.orders[entity]["state"] == "complete"):
        WebDriverWait(console.driver, FOLLOW_DEADLINE, ignored_exceptions=(WebDriverException,)).until(
            lambda driver: driver.find_element(By.ID, "request-state").text == COMPLETE
        )  # the page reloaded itself: nobody touched it
    assert not refreshes(console)  # final: no more reloads
    assert "has already been canceled through the cancel bridge" in console.driver.find_element(By.ID, "no-cancel").text
    steps = console.driver.find_elements(By.CSS_SELECTOR, "#timeline time")
    assert len(steps) >= 6
    expected = {step.get_attribute("datetime"): zone_at(step.get_attribute("datetime"), "America/Los_Angeles")
                for step in steps}  # fmt: skip
    assert all(step.text.endswith(f" {expected[step.get_attribute('datetime')]}") for step in steps)
    assert all(step.get_attribute("title").endswith(" UTC") for step in steps)


def zone_at(moment: str, zone: str) -> str:
    return datetime.fromisoformat(moment).astimezone(ZoneInfo(zone)).tzname() or ""


def refreshes(console: Console) -> bool:
    return bool(console.driver.find_elements(By.CSS_SELECTOR, "meta[http-equiv=refresh]"))


class worker_until:
    """The worker's rounds in a thread of their own, as the worker process runs beside the web, until ``done()``."""

    def __init__(self, ctx: WorkerContext, done: Callable[[], bool]) -> None:
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(ctx, done), daemon=True)

    def _run(self, ctx: WorkerContext, done: Callable[[], bool]) -> None:
        try:
            drive(ctx, done, timeout=FOLLOW_DEADLINE)
        except BaseException as exc:  # reported by the test's own thread
            self.failure = exc

    def __enter__(self) -> worker_until:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.thread.join(FOLLOW_DEADLINE)
        assert self.failure is None, self.failure


def phone_width(console: Console) -> int:
    """The page laid out on a 390-pixel phone: how wide it is (more than 390 scrolls sideways)."""
    console.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    console.driver.refresh()
    WebDriverWait(console.driver, PAGE_SECONDS).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )
    return console.driver.execute_script("return document.documentElement.scrollWidth")


def phone_screenshot(console: Console, path: Path) -> None:
    """The whole page at phone width."""
    height = console.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]["height"]
    console.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**PHONE, "height": min(int(height), 4000)})
    console.driver.save_screenshot(str(path))
    console.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)


@pytest.mark.parametrize(("user", "language"), [("olivia", "en-US"), ("giulia", "it-IT")])
def test_every_page_reads_on_a_390_pixel_phone_without_scrolling_sideways(world, console, tmp_path, user, language):
    agent = console.driver.execute_script("return navigator.userAgent")
    console.driver.execute_cdp_cmd("Emulation.setUserAgentOverride", {"userAgent": agent, "acceptLanguage": language})
    try:
        console.open("/console/sign-in")
        pages = {"sign-in": phone_width(console)}
        phone_screenshot(console, tmp_path / f"sign-in-{language}.png")
        console.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        signed_in_as(console, user)
        us = world.orders["us"]
        for name, path in [("stores", "/console/stores"), ("store", "/console/stores/us"),
                           ("order", f"/console/orders/{us}"), ("cancel", f"/console/orders/{us}/cancel"),
                           ("attention", "/console/attention"), ("api", "/console/api")]:  # fmt: skip
            console.open(path)
            pages[name] = phone_width(console)
            phone_screenshot(console, tmp_path / f"{name}-{language}.png")
            if os.environ.get("BRIDGE_SCREENSHOTS") and language == "en-US" and name in ("store", "order"):
                phone_screenshot(console, Path(os.environ["BRIDGE_SCREENSHOTS"]) / f"{name}-phone.png")
            console.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    finally:
        console.driver.execute_cdp_cmd("Emulation.setUserAgentOverride", {"userAgent": agent, "acceptLanguage": ""})
    assert all(width <= 390 for width in pages.values()), pages
    assert sorted(path.name for path in tmp_path.glob("*.png")) == sorted(f"{name}-{language}.png" for name in pages)
    console.open("/console/attention")
    why = console.driver.find_element(By.ID, "attention-requests").text
    expected = "Commerce did not cancel the order" if user == "olivia" else "Commerce non ha annullato l'ordine"
    assert world.orders["not_canceled"] in why and expected in why
    assert "Amazon.com" in why  # the store as sellers name it, not its code
