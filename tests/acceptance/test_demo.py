"""Acceptance: the README's first command, ``make demo`` (``bridge demo``), runs the whole journey and ends."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_takes_every_cancel_to_its_end() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bridge.cli", "demo"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "all requests final" in result.stdout
    assert "429s caused by the bridge: 0" in result.stdout
    for outcome in ("complete/complete      completed", "holded/holded          not_canceled_in_commerce"):
        assert outcome in result.stdout
