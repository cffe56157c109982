"""Acceptance: installed as the install guide says (``pip install .``, not editable), the bridge runs the same from
any directory: it keeps its database and looks for its stores file in its home (``~/.bridge`` without
``BRIDGE_HOME``), never in the directory a command is started from."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_non_editable_install_keeps_its_files_in_its_home_whatever_the_working_directory(tmp_path: Path) -> None:
    # What `pip install .` reads, copied, so that building leaves no build/ or egg-info in the checkout.
    source, site = tmp_path / "source", tmp_path / "site"
    shutil.copytree(ROOT / "bridge", source / "bridge", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    installed = subprocess.run(  # the dependencies are this interpreter's already
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(source)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr[-3000:]

    elsewhere, user = tmp_path / "elsewhere", tmp_path / "user"
    elsewhere.mkdir()
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(site), "HOME": str(user)}

    def bridge(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(site / "bin" / "bridge"), *args], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60
        )

    home = user / ".bridge"
    upgraded = bridge("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert str(home / "instance" / "bridge.sqlite") in upgraded.stdout
    assert (home / "instance" / "bridge.sqlite").is_file()
    assert bridge("db", "current").returncode == 0  # the same database, found again
    doctor = bridge("doctor")
    said = doctor.stdout + doctor.stderr
    assert doctor.returncode == 1 and f"BRIDGE_STORES_FILE ({home / 'config' / 'stores.toml'})" in said
    assert list(elsewhere.iterdir()) == []  # nothing looked for, nor left, where the commands ran
