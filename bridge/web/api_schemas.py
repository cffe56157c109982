"""The API's contract: its payloads in and out (marshmallow) and its headers. The views load and dump with these
schemas and the OpenAPI document is generated from them, so the two cannot drift apart."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from bridge.domain.cancel_reasons import MEANINGS, CancelReason
from bridge.domain.records import as_utc
from bridge.domain.states import RequestState, Source

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"  # "true" on an answer given again for a repeated Idempotency-Key
# 1 to 255 printable ASCII characters, no space at either end (HTTP strips it from a header's value).
IDEMPOTENCY_KEY_PATTERN = r"[!-~]([ -~]{0,253}[!-~])?"
RETRY_AFTER_SECONDS = 30  # with a 503: Commerce, Amazon or the database did not answer
# Each token's ceiling on cancels (per second, burst): well above what a tool canceling a day's orders needs, well
# below what would let one leaked or runaway token cancel a store's every order in a moment. Past it: 429.
CANCELS_PER_TOKEN = (2.0, 30)
MAX_LIMIT, DEFAULT_LIMIT = 200, 50
# The widths of the columns they are looked up in: a longer value cannot name an order the bridge knows.
INCREMENT_ID_LENGTH, AMAZON_ORDER_ID_LENGTH = 50, 32
ORDER_FIELDS = ("increment_id", "amazon_order_id")  # a cancel names its order by exactly one of these
# RFC 3339's date-time, which OpenAPI's `date-time` format names, with the offset optional (without one: UTC).
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?", re.IGNORECASE)


def in_utc(moment: datetime) -> datetime:
    """A client's time without an offset is UTC."""
    return as_utc(moment).astimezone(UTC)


class UtcDateTime(fields.DateTime):
    """ISO 8601 in UTC with a ``Z``, to the second (cut, not rounded: a time read back as ``since`` still finds its
    request)."""

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return in_utc(value).isoformat(timespec="seconds").replace("+00:00", "Z")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        """Only the form the document names: a date alone, or ISO 8601's other spellings, is refused, not guessed."""
        if not isinstance(value, str) or not _DATE_TIME.fullmatch(value):
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        try:
            return in_utc(super()._deserialize(value.upper(), attr, data, **kwargs))
        except OverflowError as exc:  # a time whose offset carries it past year 1 or 9999 in UTC
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE) from exc


def _described(description: str, **more: Any) -> dict[str, Any]:
    return {"description": description, **more}


def _one_of(values: type[StrEnum], **options: Any) -> fields.String:
    """An output field for a state or code that is read back from the database as a plain string."""
    return fields.String(validate=validate.OneOf([value.value for value in values]), **options)


def _reason_description() -> str:
    """Each reason with what it tells Amazon, so a tool's author picks one without Amazon's documentation."""
    meanings = "\n".join(f"- `{reason.value}`: {MEANINGS[reason]}" for reason in CancelReason)
    return (
        f"Amazon's cancel reason, one of:\n\n{meanings}\n\n`BuyerCanceled` is accepted only for an order whose "
        "buyer asked Amazon to cancel; for any other order the cancel is refused with 409 `reason_not_allowed`. "
        "Left out: `BuyerCanceled` when the buyer asked Amazon to cancel, else the store's default reason."
    )


# --- in ---------------------------------------------------------------------------------------------------------


class CancellationRequest(Schema):
    """What a tool sends to cancel one order; unknown fields are refused (a typo must not cancel with defaults)."""

    class Meta:
        description = "One order, by exactly one of increment_id and amazon_order_id, and an optional reason."

    increment_id = fields.String(
        validate=validate.Length(min=1, max=INCREMENT_ID_LENGTH),
        metadata=_described("The Commerce order number (increment id). Give this or amazon_order_id.",
                            example="000000020"),
    )  # fmt: skip
    amazon_order_id = fields.String(
        validate=validate.Length(min=1, max=AMAZON_ORDER_ID_LENGTH),
        metadata=_described("The Amazon order id. Give this or increment_id.", example="102-0000020-0000140"),
    )
    reason = fields.Enum(
        CancelReason,
        by_value=fields.String,
        metadata=_described(_reason_description()),
    )

    @validates_schema
    def _one_order(self, data: dict[str, Any], **_: Any) -> None:
        given = [name for name in ORDER_FIELDS if name in data]
        if len(given) != 1:
            raise ValidationError("give exactly one of increment_id and amazon_order_id")


class CancellationQuery(Schema):
    """The filters of the list; every one given must match. An unknown or empty parameter is refused, not ignored."""

    state = fields.Enum(RequestState, by_value=fields.String, metadata=_described("Only requests in this state."))
    store = fields.String(
        validate=validate.Length(min=1),
        metadata=_described("Only requests of this store (its code in the stores file)."),
    )
    increment_id = fields.String(
        validate=validate.Length(min=1, max=INCREMENT_ID_LENGTH),
        metadata=_described("Only requests of this Commerce order number."),
    )
    amazon_order_id = fields.String(
        validate=validate.Length(min=1, max=AMAZON_ORDER_ID_LENGTH),
        metadata=_described("Only requests of this Amazon order."),
    )
    since = UtcDateTime(
        metadata=_described(
            "Only requests changed at or after this time: an RFC 3339 date-time such as `2026-05-01T12:00:00Z` "
            "(without an offset, UTC)."
        )
    )
    limit = fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=validate.Range(min=1, max=MAX_LIMIT),
        metadata=_described("How many requests at most, newest first."),
    )


# --- out --------------------------------------------------------------------------------------------------------


class Links(Schema):
    self = fields.String(required=True, metadata=_described("Where this request can be read."))


class Cancellation(Schema):
    """A cancel request as the API shows it."""

    class Meta:
        description = "A cancel request: one Amazon order's cancel, from its start to Amazon's confirmation."

    id = fields.Integer(required=True)
    state = _one_of(RequestState, required=True, metadata=_described("Where the request stands."))
    decision = fields.String(
        required=True, metadata=_described("What the cancel rule decided: accept, or already_cancelled at Amazon.")
    )
    amazon_order_id = fields.String(required=True)
    increment_id = fields.String(required=True, allow_none=True, metadata=_described("The Commerce order number."))
    store = fields.String(required=True, attribute="store_code", metadata=_described("The store's code."))
    reason = _one_of(CancelReason, required=True, metadata=_described("Amazon's cancel reason."))
    source = _one_of(Source, required=True, metadata=_described("Where the cancel started."))
    actor = fields.String(
        required=True, allow_none=True, metadata=_described("The console user or API token that started it.")
    )
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True, metadata=_described("When the request last changed state."))
    links = fields.Nested(Links, required=True)


class TimelineEntry(Schema):
    state = _one_of(RequestState, required=True)
    at = UtcDateTime(required=True)
    actor = fields.String(required=True, allow_none=True, metadata=_described("Who moved it, if a person or tool."))


class AmazonResult(Schema):
    code = fields.String(required=True, allow_none=True, metadata=_described("Amazon's result code."))
    description = fields.String(required=True, allow_none=True)


class CancellationDetail(Cancellation):
    """One request with its history; the optional parts appear once they are set."""

    class Meta:
        description = "A cancel request with its history; `completed_at`, `amazon_result` and `last_error` once set."

    timeline = fields.List(fields.Nested(TimelineEntry), required=True, metadata=_described("Oldest first."))
    completed_at = UtcDateTime()
    amazon_result = fields.Nested(AmazonResult, metadata=_described("What Amazon answered to the cancel."))
    last_error = fields.String(metadata=_described("Why the last attempt did not go through."))


class CancellationList(Schema):
    items = fields.List(fields.Nested(Cancellation), required=True, metadata=_described("Newest first."))
    total = fields.Integer(required=True, metadata=_described("How many requests match, beyond the limit too."))
    limit = fields.Integer(required=True)


class ApiError(Schema):
    """Every refusal of the API: a code for the tool, a message for the person reading its log."""

    class Meta:
        description = "A refusal: `error` for the tool to act on, `message` for a person to read."

    error = fields.String(required=True, metadata=_described("A short code, such as shipped or unauthorized."))
    message = fields.String(required=True)


class Conflict(ApiError):
    request_id = fields.Integer(
        metadata=_described(
            "With under_way: the request that is canceling the order; with already_completed: the request that "
            "canceled it."
        )
    )
    commerce_state = fields.String(metadata=_described("With commerce_would_not_cancel: the Commerce order's state."))


class Invalid(ApiError):
    field_messages = fields.Dict(
        keys=fields.String(),
        data_key="fields",
        metadata=_described("What is wrong with each field (_schema: with the whole body)."),
    )
