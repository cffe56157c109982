"""The Flask application factory."""

from __future__ import annotations

import logging

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from bridge.composition import build_bridge
from bridge.settings import Settings, load_settings
from bridge.storage.engine import webhook_timeouts
from bridge.web import health, order_cancel_hooks
from bridge.web.context import EXTENSION_KEY, WATCHDOG_KEY
from bridge.web.responses import json_error
from bridge.web.watchdog import Watchdog

WATCHED_THREADS = 16  # hook checks in flight per process; past that, hooks wait for one within their budget

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config["MAX_CONTENT_LENGTH"] = order_cancel_hooks.MAX_BODY_BYTES
    # The web process's database waits fit inside a hook's budget; the worker keeps the patient defaults.
    app.extensions[EXTENSION_KEY] = build_bridge(settings, webhook_timeouts(settings.webhook_budget_ms / 1000))
    app.extensions[WATCHDOG_KEY] = Watchdog(WATCHED_THREADS)
    app.register_blueprint(order_cancel_hooks.blueprint)
    app.register_blueprint(health.blueprint)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        return json_error(exc.code or 500, (exc.name or "error").lower().replace(" ", "_"), exc.description or "")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return json_error(500, "internal_error", "the bridge failed unexpectedly; see its logs")

    if settings.allow_unsigned_webhooks and not (settings.webhook_public_keys or settings.webhook_secrets):
        log.warning("WEBHOOK VERIFICATION IS OFF (BRIDGE_ALLOW_UNSIGNED_WEBHOOKS=1): local development only")
    return app
