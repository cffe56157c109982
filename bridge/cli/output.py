"""How the commands print: aligned tables for people, JSON for tools, times in UTC."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any


class CommandFailed(Exception):
    """What was asked names nothing, or is not allowed now (no such request, a retry its state rules out): exit 1.

    ``error`` is the stable word a tool reads under ``--json``; the message says what to do, for people.
    """

    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error


def print_error(error: str, message: str, json_output: bool, **details: object) -> None:
    """Every error goes to stderr, so that stdout holds only results: ``bridge: message`` for people, and under
    ``--json`` one JSON object ``{"error": ..., "message": ...}`` (with ``details``, e.g. every setting's problem)."""
    if json_output:
        print(json.dumps({"error": error, "message": message, **details}, ensure_ascii=False), file=sys.stderr)
    else:
        print(f"bridge: {message}", file=sys.stderr)


def utc(moment: datetime | float | None) -> str:
    """``2026-12-02 14:03:05Z``: a record's time or epoch seconds; "-" for none."""
    if moment is None or moment == 0:
        return "-"
    if isinstance(moment, int | float):
        moment = datetime.fromtimestamp(moment, UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max([len(columns[i]), *(len(row[i]) for row in rows)]) for i in range(len(columns))]  # rows may be none
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(lines)


def fields(pairs: Sequence[tuple[str, Any]]) -> str:
    """One ``name  value`` line a field, values as people read them."""
    width = max(len(name) for name, _ in pairs)
    return "\n".join(f"{name.ljust(width)}  {'-' if value in (None, '') else value}" for name, value in pairs)


def as_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc(value)
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    return str(value)
