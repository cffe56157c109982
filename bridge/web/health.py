"""``/healthz`` (the process answers) and ``/readyz`` (the database is reachable and fully migrated)."""

from __future__ import annotations

from flask import Blueprint, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bridge.storage.engine import current_revision, head_revision
from bridge.web.app_services import current_services, current_watchdog
from bridge.web.responses import json_response
from bridge.web.watchdog import TimedOut

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz() -> Response:
    return json_response({"status": "ok"}, 200)


READY_BUDGET_SECONDS = 0.8  # a platform's health check must hear back within a second, database or not


@blueprint.get("/readyz")
def readyz() -> Response:
    engine = current_services().engine

    def migration_level() -> str | None:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return current_revision(engine)

    try:
        current = current_watchdog().run(migration_level, READY_BUDGET_SECONDS)
    except TimedOut:
        return json_response({"status": "unavailable", "database": "no answer within a second"}, 503)
    except SQLAlchemyError as exc:
        return json_response({"status": "unavailable", "database": exc.__class__.__name__}, 503)
    head = head_revision()
    if current != head:
        return json_response(
            {
                "status": "unavailable",
                "database": "ok",
                "migrations": f"at {current}, expected {head}: run 'bridge db upgrade'",
            },
            503,
        )
    return json_response({"status": "ok", "database": "ok", "migrations": current}, 200)
