"""``/healthz`` (the process answers) and ``/readyz`` (the database takes a write and is fully migrated).

``/readyz`` says something of the database, so it can be kept for the monitoring: with ``BRIDGE_READYZ_TOKEN`` set
it wants that token as a bearer token, as ``/metrics`` does with its own. ``/healthz`` stays open for load balancers.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bridge.storage.engine import current_revision, head_revision
from bridge.web.app_services import current_services, current_watchdog
from bridge.web.responses import json_error, json_response
from bridge.web.watchdog import TimedOut

blueprint = Blueprint("health", __name__)


def bearer_allowed(token: str) -> bool:
    """No token configured: open. Else only ``Authorization: Bearer <token>``, compared in constant time."""
    if not token:
        return True
    offered = request.headers.get("Authorization", "")
    return hmac.compare_digest(offered.encode(), f"Bearer {token}".encode())


@blueprint.get("/healthz")
def healthz() -> Response:
    return json_response({"status": "ok"}, 200)


READY_BUDGET_SECONDS = 0.8  # a platform's health check must hear back within a second, database or not


@blueprint.get("/readyz")
def readyz() -> Response:
    services = current_services()
    if not bearer_allowed(services.settings.metrics.readyz_token):
        return json_error(401, "unauthorized", "send the readiness token (BRIDGE_READYZ_TOKEN) as a Bearer token")
    engine = services.engine

    head = head_revision()

    def migration_level() -> str | None:
        """Where the migrations stand; at the head, also a write, rolled back: a database that answers reads but
        refuses writes (locked, read-only, a full disk) cannot take a cancel, so it is not ready."""
        current = current_revision(engine)
        if current == head:
            with engine.connect() as connection, connection.begin() as transaction:
                connection.execute(text("UPDATE alembic_version SET version_num = version_num"))
                transaction.rollback()
        return current

    try:
        current = current_watchdog().run(migration_level, READY_BUDGET_SECONDS)
    except TimedOut:
        return json_response({"status": "unavailable", "database": "no answer within a second"}, 503)
    except SQLAlchemyError as exc:
        return json_response({"status": "unavailable", "database": exc.__class__.__name__}, 503)
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
