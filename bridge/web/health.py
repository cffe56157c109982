"""``/healthz`` (the process answers) and ``/readyz`` (the database is reachable and fully migrated)."""

from __future__ import annotations

from flask import Blueprint, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bridge.storage.engine import current_revision, head_revision
from bridge.web.context import current_bridge
from bridge.web.responses import json_response

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz() -> Response:
    return json_response({"status": "ok"}, 200)


@blueprint.get("/readyz")
def readyz() -> Response:
    engine = current_bridge().engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current = current_revision(engine)
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
