"""PHP ``json_encode`` output, byte for byte: compact, ``/`` as ``\\/``, non-ASCII as ``\\uXXXX``."""

from __future__ import annotations

import json


def php_json_encode(value: object) -> bytes:
    # In ensure_ascii output "/" only ever appears as itself (escapes use hex digits), so this is safe.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/").encode("ascii")
