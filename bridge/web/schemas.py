"""Webhook payloads in and out (marshmallow)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema


class OrderCancelPayload(Schema):
    """``{"subject":[],"id":"42"}`` or a reshaped ``{"id":42,"area_code":"adminhtml"}``; ``id`` may be text."""

    class Meta:
        unknown = EXCLUDE

    id = fields.Integer(required=True, strict=False, validate=validate.Range(min=1, max=2**63 - 1))

    @validates_schema(pass_original=True)
    def _no_fractions(self, _data: dict, original: object, **_: object) -> None:
        raw = original.get("id") if isinstance(original, dict) else None
        if isinstance(raw, (bool, float)):
            raise ValidationError("must be a whole number or a string of digits", field_name="id")


class WebhookAnswer(Schema):
    """Commerce's webhook response: ``op`` plus a ``message`` the admin sees on ``exception``."""

    op = fields.String(required=True, validate=validate.OneOf(("success", "exception")))
    message = fields.String()
