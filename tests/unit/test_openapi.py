"""The API's document and payloads, without a bridge: apispec reads the registered views and the schemas."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from flask import Blueprint, Flask
from marshmallow import ValidationError
from openapi_spec_validator import validate

from bridge.domain.cancel_reasons import MEANINGS, CancelReason
from bridge.web import api
from bridge.web.api_schemas import Cancellation, CancellationQuery, CancellationRequest, UtcDateTime
from bridge.web.openapi import build_document, openapi_document


def app_with(*blueprints: Blueprint) -> Flask:
    app = Flask(__name__)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    return app


def test_the_document_is_built_once_per_app_and_is_valid() -> None:
    first, second = app_with(api.blueprint), app_with(api.blueprint)
    with first.app_context():
        document = openapi_document()
        assert openapi_document() is document
    with second.app_context():
        assert openapi_document() is not document and openapi_document() == document
    validate(document)


def test_a_view_without_an_operation_fails_the_build() -> None:
    undocumented = Blueprint("api", __name__, url_prefix="/api/v1")
    undocumented.add_url_rule("/secret", "secret", lambda: "")
    with pytest.raises(LookupError, match="secret"):
        build_document(app_with(undocumented))


def test_an_order_is_named_exactly_once() -> None:
    schema = CancellationRequest()
    assert schema.load({"amazon_order_id": "102-0000020-0000140"}) == {"amazon_order_id": "102-0000020-0000140"}
    for body in ({}, {"increment_id": "1", "amazon_order_id": "102-0000020-0000140"}):
        with pytest.raises(ValidationError) as refused:
            schema.load(body)
        assert "_schema" in refused.value.messages


def test_times_go_out_in_utc_with_a_z_and_come_in_as_utc() -> None:
    field = UtcDateTime()
    naive_utc = datetime(2024, 5, 1, 12, 0, 7, 900_000)  # as SQLite gives it back
    aware = datetime(2024, 5, 1, 14, 0, 7, tzinfo=timezone(timedelta(hours=2)))  # as PostgreSQL may
    assert field.serialize("at", {"at": naive_utc}) == "2024-05-01T12:00:07Z"  # cut, never rounded up
    assert field.serialize("at", {"at": aware}) == "2024-05-01T12:00:07Z"
    query = CancellationQuery()
    assert query.load({"since": "2024-05-01T14:00:00+02:00"})["since"] == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert query.load({"since": "2024-05-01T12:00:00"})["since"] == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert query.load({"since": "2024-05-01t12:00:00.5z"})["since"] == datetime(2024, 5, 1, 12, 0, 0, 500_000, UTC)


@pytest.mark.parametrize(
    "since",
    ["", "2024-05-01", "20240501T120000Z", "2024-05-01T12Z", "2024-05-01 12:00:00Z", "0001-01-01T00:00:00+01:00"],
)
def test_a_time_in_any_other_form_than_the_documents_is_refused(since: str) -> None:
    """The document says RFC 3339 date-time: ISO 8601's other spellings are refused, not guessed at, and so is a
    time that UTC puts before year 1."""
    with pytest.raises(ValidationError) as refused:
        CancellationQuery().load({"since": since})
    assert set(refused.value.messages) == {"since"}


def test_the_document_gives_each_reason_with_its_meaning() -> None:
    with app_with(api.blueprint).app_context():
        reason = openapi_document()["components"]["schemas"]["CancellationRequest"]["properties"]["reason"]
    for value in CancelReason:
        assert f"`{value.value}`: {MEANINGS[value]}" in reason["description"]
    assert "`reason_not_allowed`" in reason["description"]


def test_every_field_the_api_shows_is_documented_as_required() -> None:
    """A tool may rely on every field of a Cancellation being there (null where allowed), as the document says."""
    with app_with(api.blueprint).app_context():
        documented = openapi_document()["components"]["schemas"]["Cancellation"]
    assert set(documented["required"]) == set(Cancellation().fields) == set(documented["properties"])
