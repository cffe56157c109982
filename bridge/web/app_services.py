"""Where a Flask app keeps what its views use (built once per app by the composition root) and its watchdog.

The one module that reads ``app.extensions``: views ask ``current_services()`` and name what they use from it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app

from bridge.composition import WebServices
from bridge.web.watchdog import Watchdog

SERVICES_KEY = "bridge"
WATCHDOG_KEY = "bridge.watchdog"


def install(app: Flask, services: WebServices, watchdog: Watchdog) -> None:
    app.extensions[SERVICES_KEY] = services
    app.extensions[WATCHDOG_KEY] = watchdog


def services_of(app: Flask) -> WebServices:
    return app.extensions[SERVICES_KEY]


def current_services() -> WebServices:
    """The current app's services, inside a request."""
    return services_of(current_app)


def current_watchdog() -> Watchdog:
    return current_app.extensions[WATCHDOG_KEY]


def built_once(name: str, build: Callable[[Flask], Any]) -> Any:
    """A value of the current app's that is built at first need and never changes (e.g. its OpenAPI document)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    key = f"bridge.{name}"
    if key not in app.extensions:
        app.extensions[key] = build(app)
    return app.extensions[key]
