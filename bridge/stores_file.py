"""The stores file (``BRIDGE_STORES_FILE``): one ``[[stores]]`` table per Amazon store, checked with marshmallow."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path

from marshmallow import Schema, ValidationError, fields, validate

from bridge.domain.cancel_reasons import CancelReason
from bridge.domain.locales import LOCALES
from bridge.domain.stores import REGIONS, Store


class _StoreSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=64))
    commerce_store_ids = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=0)),
        required=True,
        validate=validate.Length(min=1),
    )
    seller_id = fields.String(required=True, validate=validate.Length(min=1))
    marketplace_id = fields.String(required=True, validate=validate.Length(min=1))
    region = fields.String(required=True, validate=validate.OneOf(REGIONS))
    refresh_token_env = fields.String(
        required=True, validate=validate.Regexp(r"^[A-Za-z_][A-Za-z0-9_]*$", error="must be an env var name")
    )
    order_import = fields.Boolean(required=True, truthy={True}, falsy={False})
    default_cancel_reason = fields.Enum(
        CancelReason,
        by_value=True,
        required=True,
        validate=validate.NoneOf(
            [CancelReason.BUYER_CANCELED],
            error="BuyerCanceled cannot be a default: it tells Amazon the buyer asked, which keeps the cancel out of "
            "the Cancellation Rate; the bridge uses it by itself when the buyer did ask. Choose another reason",
        ),
    )
    locale = fields.String(required=True, validate=validate.OneOf(LOCALES))


class _StoresFileSchema(Schema):
    stores = fields.List(fields.Nested(_StoreSchema), required=True, validate=validate.Length(min=1))


def _flatten(messages: object, prefix: str = "") -> list[str]:
    """Turn marshmallow's nested error dict into ``stores[0].region: ...`` lines."""
    if isinstance(messages, Mapping):
        lines: list[str] = []
        for key, value in messages.items():
            path = f"{prefix}[{key}]" if isinstance(key, int) else f"{prefix}.{key}" if prefix else str(key)
            lines.extend(_flatten(value, path))
        return lines
    if isinstance(messages, list):
        return [f"{prefix}: {m}" for m in messages]
    return [f"{prefix}: {messages}"]


def load_stores(path: Path, environ: Mapping[str, str]) -> tuple[list[Store], list[str]]:
    """Read and check the stores file; return the stores and every problem found (never raising)."""
    label = f"BRIDGE_STORES_FILE ({path})"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [], [f"{label}: file not found; copy config/stores.example.toml and edit it"]
    except (OSError, UnicodeDecodeError) as exc:
        return [], [f"{label}: cannot be read: {exc.__class__.__name__}"]
    except tomllib.TOMLDecodeError as exc:
        return [], [f"{label}: not valid TOML: {exc}"]
    if isinstance(raw.get("stores"), dict):
        return [], [f"{label}: each store is a [[stores]] table (two brackets), not [stores]"]
    try:
        data = _StoresFileSchema().load(raw, unknown="raise")
    except ValidationError as exc:
        return [], [f"{label}: {line}" for line in _flatten(exc.messages)]

    problems: list[str] = []
    stores: list[Store] = []
    owner_of: dict[int, str] = {}
    seen_codes: set[str] = set()
    for entry in data["stores"]:
        code = entry["code"]
        if code in seen_codes:
            problems.append(f"{label}: store code {code!r} appears twice")
        seen_codes.add(code)
        for store_id in entry["commerce_store_ids"]:
            if store_id in owner_of:
                problems.append(
                    f"{label}: Commerce store id {store_id} is claimed by both {owner_of[store_id]!r} and {code!r}"
                )
            owner_of[store_id] = code
        token = environ.get(entry["refresh_token_env"], "").strip()
        if not token:
            problems.append(f"{entry['refresh_token_env']}: not set (the SP-API refresh token of store {code!r})")
        stores.append(
            Store(
                code=code,
                commerce_store_ids=tuple(entry["commerce_store_ids"]),
                seller_id=entry["seller_id"],
                marketplace_id=entry["marketplace_id"],
                region=entry["region"],
                refresh_token_env=entry["refresh_token_env"],
                order_import=entry["order_import"],
                default_cancel_reason=entry["default_cancel_reason"],
                locale=entry["locale"],
                refresh_token=token,
            )
        )
    return stores, problems
