"""The Flask application factory."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError

from bridge.composition import build_web
from bridge.errors import UpstreamError
from bridge.settings import Settings, load_settings
from bridge.storage.engine import webhook_timeouts
from bridge.web import api, console, health, metrics_endpoint, order_cancel_hooks
from bridge.web.api_schemas import RETRY_AFTER_SECONDS
from bridge.web.app_services import install
from bridge.web.body_deadline import BodyDeadline
from bridge.web.i18n import init_i18n
from bridge.web.responses import json_error, kept_headers
from bridge.web.sessions import current_user, init_sessions, secret_key_of
from bridge.web.watchdog import Watchdog

WATCHED_THREADS = 16  # hook checks in flight per process; past that, hooks wait for one within their budget

log = logging.getLogger(__name__)
access_log = logging.getLogger("bridge.access")
# Probed every few seconds by platforms and Prometheus: logged at DEBUG, so INFO shows the traffic that matters.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# On every answer: harmless for machines, and a browser that shows one (a console page, an API answer opened in a
# tab) never frames it, sniffs another type into it, or tells another site which console page linked there. The
# console's pages use no script, no inline style and nothing from elsewhere: its own stylesheet only.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config["MAX_CONTENT_LENGTH"] = order_cancel_hooks.MAX_BODY_BYTES
    # Commerce's, the console's and the API's bodies are a few hundred bytes: one that trickles in holds a connection
    # slot no longer than BRIDGE_REQUEST_BODY_SECONDS, then gets 408.
    app.wsgi_app = BodyDeadline(  # type: ignore[method-assign]
        app.wsgi_app, settings.request_body_seconds, order_cancel_hooks.MAX_BODY_BYTES
    )
    # The web process's database waits fit inside a hook's budget; the worker keeps the patient defaults.
    web = build_web(settings, secret_key_of(settings), webhook_timeouts(settings.webhook_budget_ms / 1000))
    install(app, web, Watchdog(WATCHED_THREADS))
    init_sessions(app, settings)
    init_i18n(app)
    csrf = CSRFProtect(app)  # every console form; the hooks (signed), the API (tokens) and probes carry no cookie
    for machine_facing in (order_cancel_hooks.blueprint, api.blueprint, health.blueprint, metrics_endpoint.blueprint):
        csrf.exempt(machine_facing)
        app.register_blueprint(machine_facing)
    app.register_blueprint(console.blueprint)
    _log_every_request(app)
    _secure_every_answer(app)

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
            return _console_error_page(500, None), 500
        if request.path.startswith(api.PREFIX + "/"):  # the API's own shape, {"error", "message"}
            return api.http_error(InternalServerError("the bridge failed unexpectedly; see its logs"))
        return json_error(500, "internal_error", "the bridge failed unexpectedly; see its logs")

    @app.errorhandler(SQLAlchemyError)
    @app.errorhandler(UpstreamError)
    def _cannot_answer_now(exc: Exception) -> Response | tuple[str, int, dict[str, str]]:
        """A console page fails closed and says so: "try again" (503), and one warning line without a traceback,
        nor a database error's text (it may carry a statement's parameters). The API and the hooks answer these
        faults themselves; anywhere else one is unexpected."""
        if not _is_console_page():
            return _unexpected(exc)
        detail = str(exc)[:300] if isinstance(exc, UpstreamError) else None
        log.warning(
            "console page could not be answered: %s", exc.__class__.__name__,
            extra={"path": request.path[:200], "error": detail},
        )  # fmt: skip
        g.setdefault("user", None)  # not asked again: the page names who is signed in only if that was read
        return _console_error_page(503, None), 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}

    if settings.allow_unsigned_webhooks and not (settings.webhook_public_keys or settings.webhook_secrets):
        log.warning("WEBHOOK VERIFICATION IS OFF (BRIDGE_ALLOW_UNSIGNED_WEBHOOKS=1): local development only")
    return app


def _is_console_page() -> bool:
    return request.path == "/" or request.path.startswith(console.PREFIX)


def _console_error(exc: HTTPException) -> str:
    return _console_error_page(exc.code or 500, exc.description)


def _console_error_page(code: int, description: str | None) -> str:
    """The console's error page, which names who is signed in where the database can say: a page that is not found
    while the database is down is still "not found", never an error of its own."""
    try:
        current_user()
    except SQLAlchemyError:
        g.user = None
    return render_template("console/error.html", code=code, description=description)


def _secure_every_answer(app: Flask) -> None:
    @app.after_request
    def _security_headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if _is_console_page() and request.endpoint != "console.static":
            response.headers["Cache-Control"] = "no-store"  # a shared computer's back button shows no order
        return response


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
