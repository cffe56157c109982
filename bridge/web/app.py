"""The Flask application factory."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException, InternalServerError

from bridge.composition import build_web
from bridge.settings import Settings, load_settings
from bridge.storage.engine import webhook_timeouts
from bridge.web import api, console, health, metrics_endpoint, order_cancel_hooks
from bridge.web.app_services import install
from bridge.web.i18n import init_i18n
from bridge.web.responses import json_error, kept_headers
from bridge.web.sessions import init_sessions
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
    install(app, build_web(settings, webhook_timeouts(settings.webhook_budget_ms / 1000)), Watchdog(WATCHED_THREADS))
    init_sessions(app, settings)
    init_i18n(app)
    csrf = CSRFProtect(app)  # every console form; the hooks (signed), the API (tokens) and probes carry no cookie
    for machine_facing in (order_cancel_hooks.blueprint, api.blueprint, health.blueprint, metrics_endpoint.blueprint):
        csrf.exempt(machine_facing)
        app.register_blueprint(machine_facing)
    app.register_blueprint(console.blueprint)
    _log_every_request(app)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response | tuple[str, int, dict[str, str]]:
        """Every page keeps Werkzeug's headers for its status (a 405's ``Allow``) in whichever shape it answers."""
        if _is_console_page():
            return _console_error(exc), exc.code or 500, kept_headers(exc)
        if request.path.startswith(api.PREFIX + "/"):  # routing errors never reach the API's own handler
            return api.http_error(exc)
        response = json_error(exc.code or 500, (exc.name or "error").lower().replace(" ", "_"), exc.description or "")
        response.headers.update(kept_headers(exc))
        return response

    @app.errorhandler(CSRFError)
    def _csrf_refused(exc: CSRFError) -> tuple[str, int]:
        log.warning("console form refused: %s", exc.description, extra={"path": request.path[:200]})
        return _console_error(exc), 400

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response | tuple[str, int]:
        log.exception("unhandled error")
        if _is_console_page():
            return render_template("console/error.html", code=500, description=None), 500
        if request.path.startswith(api.PREFIX + "/"):  # the API's own shape, {"error", "message"}
            return api.http_error(InternalServerError("the bridge failed unexpectedly; see its logs"))
        return json_error(500, "internal_error", "the bridge failed unexpectedly; see its logs")

    if settings.allow_unsigned_webhooks and not (settings.webhook_public_keys or settings.webhook_secrets):
        log.warning("WEBHOOK VERIFICATION IS OFF (BRIDGE_ALLOW_UNSIGNED_WEBHOOKS=1): local development only")
    return app


def _is_console_page() -> bool:
    return request.path == "/" or request.path.startswith(console.PREFIX)


def _console_error(exc: HTTPException) -> str:
    return render_template("console/error.html", code=exc.code or 500, description=exc.description)


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
