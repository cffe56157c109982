"""What the browser tests share: one headless Chromium per test module (starting one takes about a second)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium.webdriver.remote.webdriver import WebDriver

from tests.browser import start_chromium


@pytest.fixture(scope="module")
def driver() -> Iterator[WebDriver]:
    browser = start_chromium()
    yield browser
    browser.quit()
