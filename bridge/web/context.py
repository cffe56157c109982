"""Where a Flask app keeps the bridge it serves (built once per app by the composition root) and its watchdog."""

from __future__ import annotations

from flask import Flask, current_app

from bridge.composition import Bridge
from bridge.web.watchdog import Watchdog

EXTENSION_KEY = "bridge"
WATCHDOG_KEY = "bridge.watchdog"


def bridge_of(app: Flask) -> Bridge:
    return app.extensions[EXTENSION_KEY]


def current_bridge() -> Bridge:
    """The current app's bridge, inside a request."""
    return bridge_of(current_app)


def current_watchdog() -> Watchdog:
    return current_app.extensions[WATCHDOG_KEY]
