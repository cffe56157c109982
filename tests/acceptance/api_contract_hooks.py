"""Schemathesis hooks for test_api_contract.py, loaded by ``st`` from this file through ``SCHEMATHESIS_HOOKS``."""

from __future__ import annotations

import json
from typing import Any

import schemathesis

KEY_REUSED = "idempotency_key_reused"


@schemathesis.hook
def filter_failure(ctx: Any, failure: Any, case: Any, response: Any) -> bool:
    """Keep every failure but one the server is right about. Drawn Idempotency-Keys repeat (Hypothesis favours short
    values), and a key sent again with another body is refused: 422 ``idempotency_key_reused``, as the document
    says. ``positive_data_acceptance`` judges one request at a time, so it takes that refusal of a valid request
    for a disagreement with the document; it is the answer to the request before. Only that pairing is dropped:
    the check goes on for everything else, and every other check sees the 422 too."""
    return not (failure.code == "ST202" and response.status_code == 422 and _error_of(response) == KEY_REUSED)


def _error_of(response: Any) -> str | None:
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    return body.get("error") if isinstance(body, dict) else None
