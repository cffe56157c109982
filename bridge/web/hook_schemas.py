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


class JsonBoolean(fields.Field):
    """Only the JSON values ``true`` and ``false``: marshmallow's Boolean also takes ``1``, ``"true"`` and ``"yes"``
    (and ``1 in {True}`` holds in Python, so even ``truthy={True}`` lets ``1`` through)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if value is True or value is False:
            return value
        raise ValidationError("must be the JSON value true or false")


class BeforeCancelPayload(Schema):
    """``{"subject":[],"id":"42"}`` or a reshaped ``{"id":42,"area_code":"adminhtml"}``."""

    class Meta:
        unknown = EXCLUDE

    id = EntityId(required=True)


class AfterCancelPayload(BeforeCancelPayload):
    """``{"subject":[],"result":true,"id":"42"}``: ``result`` is what the cancel method returned."""

    result = JsonBoolean(required=True)


class WebhookAnswer(Schema):
    """Commerce's webhook response: ``op`` plus a ``message`` the admin sees on ``exception``."""

    op = fields.String(required=True, validate=validate.OneOf(("success", "exception")))
    message = fields.String()
