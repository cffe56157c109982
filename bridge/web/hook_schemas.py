"""Webhook payloads in and out (marshmallow)."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

_DIGITS = re.compile(r"[0-9]{1,19}")  # ASCII digits only: int() would also take "４２", "4_2" and "+42"
MAX_ENTITY_ID = 2**63 - 1


class EntityId(fields.Field):
    """Commerce's order entity id: a JSON integer, or a string of ASCII digits (``"42"``)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and _DIGITS.fullmatch(value):
            number = int(value)
        else:
            raise ValidationError("must be a whole number or a string of ASCII digits")
        if not 1 <= number <= MAX_ENTITY_ID:
            raise ValidationError(f"must be from 1 to {MAX_ENTITY_ID}")
        return number


class BeforeCancelPayload(Schema):
    """``{"subject":[],"id":"42"}`` or a reshaped ``{"id":42,"area_code":"adminhtml"}``."""

    class Meta:
        unknown = EXCLUDE

    id = EntityId(required=True)


class AfterCancelPayload(BeforeCancelPayload):
    """``{"subject":[],"result":true,"id":"42"}``: ``result`` is what the cancel method returned."""

    result = fields.Boolean(required=True, truthy={True}, falsy={False})


class WebhookAnswer(Schema):
    """Commerce's webhook response: ``op`` plus a ``message`` the admin sees on ``exception``."""

    op = fields.String(required=True, validate=validate.OneOf(("success", "exception")))
    message = fields.String()
