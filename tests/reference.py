"""The official references (Amazon's XSDs and samples, Adobe's signature vector), read where they sit beside the
repository (``../shared/reference``); never copied into it.

A test that needs one is skipped with the reason when it is absent, except in CI, where that is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def reference(*parts: str) -> Path:
    """The path of an official reference file or folder; skips the calling test (fails it in CI) when absent."""
    path = REFERENCE.joinpath(*parts)
    if not path.exists():
        reason = f"official reference {'/'.join(parts)} is not beside the repository ({REFERENCE})"
        if in_ci():
            pytest.fail(f"{reason}; CI must run the reference tests")
        pytest.skip(reason)
    return path


def optional_reference(*parts: str) -> Path | None:
    """The path when present, else None: for equipment that is stricter with it (the stand-in's XSD check)."""
    path = REFERENCE.joinpath(*parts)
    return path if path.exists() else None
