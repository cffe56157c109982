"""JSON responses in one place, so every error the bridge gives has the same shape."""

from __future__ import annotations

import json

from flask import Response
from marshmallow import Schema, fields


class ErrorBody(Schema):
    error = fields.String(required=True)
    detail = fields.String()


def json_response(data: object, status: int) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status=status, mimetype="application/json")


def json_error(status: int, error: str, detail: str) -> Response:
    return json_response(ErrorBody().dump({"error": error, "detail": detail}), status)
