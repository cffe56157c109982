"""The Flask application factory."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from bridge.composition import build_bridge
from bridge.settings import Settings, load_settings
from bridge.storage.engine import webhook_timeouts
from bridge.web import health, metrics_endpoint, order_cancel_hooks
from bridge.web.context import EXTENSION_KEY, WATCHDOG_KEY
from bridge.web.responses import json_error
from bridge.web.watchdog import Watchdog

WATCHED_THREADS = 16  # hook checks in flight per process; past that, hooks wait for one within their budget

log = logging.getLogger(__name__)
access_log = logging.getLogger("bridge.access")
# Probed every few seconds by platforms and Prometheus: logged at DEBUG, so INFO shows the traffic that matters.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config["MAX_CONTENT_LENGTH"] = order_cancel_hooks.MAX_BODY_BYTES
    # The web process's database waits fit inside a hook's budget; the worker keeps the patient defaults.
    app.extensions[EXTENSION_KEY] = build_bridge(settings, webhook_timeouts(settings.webhook_budget_ms / 1000))
    app.extensions[WATCHDOG_KEY] = Watchdog(WATCHED_THREADS)
    app.register_blueprint(order_cancel_hooks.blueprint)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(metrics_endpoint.blueprint)
    _log_every_request(app)

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


def _log_every_request(app: Flask) -> None:
    """One JSON access line per request, through the bridge's own formatter (query strings left out)."""

    @app.before_request
    def _start_clock() -> None:
        g.started = time.monotonic()

    @app.after_request
    def _access_line(response: Response) -> Response:
        access_log.log(
            logging.DEBUG if request.path in QUIET_PATHS else logging.INFO,
            "request",
            extra={
                "method": request.method,
                "path": request.path[:200],
                "status": response.status_code,
                "bytes": response.content_length,
                "duration_ms": round((time.monotonic() - g.get("started", time.monotonic())) * 1000, 1),
                "remote_addr": request.remote_addr,
            },
        )
        return response
