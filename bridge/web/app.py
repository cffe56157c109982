"""The Flask application factory."""

from __future__ import annotations

import logging

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from bridge.composition import build_bridge
from bridge.settings import Settings, load_settings
from bridge.web import health, order_cancel_hook
from bridge.web.context import EXTENSION_KEY
from bridge.web.responses import json_error

MAX_WEBHOOK_BODY = 64 * 1024

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config["MAX_CONTENT_LENGTH"] = MAX_WEBHOOK_BODY
    app.extensions[EXTENSION_KEY] = build_bridge(settings)
    app.register_blueprint(order_cancel_hook.blueprint)
    app.register_blueprint(health.blueprint)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        return json_error(exc.code or 500, (exc.name or "error").lower().replace(" ", "_"), exc.description or "")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return json_error(500, "internal_error", "the bridge failed unexpectedly; see its logs")

    if settings.allow_unsigned_webhooks and not (settings.webhook_public_key or settings.webhook_secret):
        log.warning("WEBHOOK VERIFICATION IS OFF (BRIDGE_ALLOW_UNSIGNED_WEBHOOKS=1): local development only")
    return app
