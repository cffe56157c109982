"""A real headless Chromium (Debian's ``chromium`` and ``chromium-driver`` packages) driven through Selenium.

Skipped with the reason where the browser is not installed, except in CI (``.ci/run`` installs it), where that is
a failure. With ``BRIDGE_SCREENSHOTS=<folder>``, the tests save the pages the README shows there.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.reference import in_ci

CHROMIUM = os.environ.get("BRIDGE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("BRIDGE_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
PAGE_SECONDS = 15
PAGE_MARK = "bridgeTestPageBeforeClick"  # set on a page before leaving it: a new page does not have it


def start_chromium() -> WebDriver:
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not (Path(path).exists() or shutil.which(path))]
    if missing:
        reason = f"no headless browser: {', '.join(missing)} missing (apt-get install chromium chromium-driver)"
        if in_ci():
            pytest.fail(f"{reason}; .ci/run should have installed it")
        pytest.skip(reason)
    options = Options()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,900", "--lang=en-US"):  # fmt: skip
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


class Console:
    """What an operator does in the console, step by step, in the browser."""

    def __init__(self, driver: WebDriver, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url

    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    def sign_in(self, name: str, password: str) -> None:
        if not self.driver.current_url.startswith(self.base_url + "/console/sign-in"):
            self.open("/console/sign-in")
        self.driver.find_element(By.ID, "name").clear()
        self.driver.find_element(By.ID, "name").send_keys(name)
        self.driver.find_element(By.ID, "password").send_keys(password)
        self.follow(self.driver.find_element(By.ID, "sign-in"))

    def follow(self, element: WebElement) -> None:
        """Click a link or a submit button, and wait until the next page has replaced this one."""
        self._mark_this_page()
        element.click()
        self._wait_for_the_next_page()

    def submit_by_script(self, script: str, *args: object) -> None:
        """Post a form the page itself does not offer (a forgery), and wait for the answer's page."""
        self._mark_this_page()
        self.driver.execute_script(script, *args)
        self._wait_for_the_next_page()

    def _mark_this_page(self) -> None:
        self.driver.execute_script(f"window.{PAGE_MARK} = true")

    def _wait_for_the_next_page(self) -> None:
        """A new document (it has a window of its own, without the mark) that has finished loading.

        Chromium may answer a look-up of the old page's elements during the swap with a generic error rather than
        "stale element", so the wait asks the window, not an element; errors while the page changes are retried.
        """
        WebDriverWait(self.driver, PAGE_SECONDS, ignored_exceptions=(WebDriverException,)).until(
            lambda driver: driver.execute_script(
                f"return window.{PAGE_MARK} === undefined && document.readyState === 'complete'"
            )
        )

    def click_link(self, text: str) -> None:
        self.follow(self.driver.find_element(By.LINK_TEXT, text))

    def click(self, element_id: str) -> None:
        self.follow(self.driver.find_element(By.ID, element_id))

    def text(self) -> str:
        return self.driver.find_element(By.TAG_NAME, "body").text

    def heading(self) -> str:
        return self.driver.find_element(By.TAG_NAME, "h1").text

    def has(self, element_id: str) -> bool:
        return bool(self.driver.find_elements(By.ID, element_id))

    def choose(self, select_id: str, value: str) -> None:
        Select(self.driver.find_element(By.ID, select_id)).select_by_value(value)

    def screenshot(self, name: str) -> None:
        """Saved only when asked (``BRIDGE_SCREENSHOTS``): the README's pictures come from these runs."""
        folder = os.environ.get("BRIDGE_SCREENSHOTS")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            height = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]["height"]
            metrics = {"width": 1280, "height": min(int(height), 2400), "deviceScaleFactor": 1, "mobile": False}
            self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)  # the whole page
            self.driver.save_screenshot(str(Path(folder) / f"{name}.png"))
            self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
