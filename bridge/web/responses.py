"""JSON responses in one place, so every error the bridge gives has the same shape."""

from __future__ import annotations

import json

from flask import Response
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException


class ErrorBody(Schema):
    error = fields.String(required=True)
    detail = fields.String()


def json_response(data: object, status: int) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status=status, mimetype="application/json")


def json_error(status: int, error: str, detail: str) -> Response:
    return json_response(ErrorBody().dump({"error": error, "detail": detail}), status)


def kept_headers(exc: HTTPException) -> dict[str, str]:
    """The headers Werkzeug sends with an HTTP error (``Allow`` with a 405, say), less its HTML ``Content-Type``:
    an error answered in the bridge's own shape must still carry what its status promises."""
    return {name: value for name, value in exc.get_headers() if name.lower() != "content-type"}
