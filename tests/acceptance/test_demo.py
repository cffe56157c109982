"""Acceptance: the README's first command, ``make demo`` (``python -m standins.demo``), runs the whole journey and
ends."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from standins.demo import DEMO_DIR

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_takes_every_cancel_to_its_end() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "standins.demo"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "all requests final" in result.stdout
    assert "429s caused by the bridge: 0" in result.stdout
    for outcome in ("complete/complete      completed", "holded/holded          not_canceled_in_commerce"):
        assert outcome in result.stdout


def _processes_with(marker: str) -> list[int]:
    """Processes whose environment holds ``marker`` (the demo's own folder): the ones the demo started."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if marker.encode() in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux's /proc to find processes")
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stopped_demo_leaves_no_process_behind_and_says_so_quietly(stop_signal: signal.Signals) -> None:
    demo = subprocess.Popen(
        [sys.executable, "-u", "-m", "standins.demo"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    for line in demo.stdout:  # until the web and worker processes are both running
        if line.startswith("The worker (Procfile 'worker') now sends"):
            break
    marker = str(DEMO_DIR / "instance")
    assert _processes_with(marker), "the demo should have started its web and worker processes"
    demo.send_signal(stop_signal)
    _, stderr = demo.communicate(timeout=60)
    assert demo.returncode == 128 + stop_signal
    assert "Traceback" not in stderr and f"demo stopped ({stop_signal.name})" in stderr
    assert _processes_with(marker) == []


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux's /proc to find processes")
def test_the_demo_can_stay_up_for_a_person_to_sign_in_to_the_console() -> None:
    demo = subprocess.Popen(
        [sys.executable, "-u", "-m", "standins.demo", "--console"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        invitation = next(line for line in demo.stdout if line.startswith("The console: "))
        found = re.search(r"(http://\S+)/console/ \(sign in as 'operator', password (\S+)\)", invitation)
        assert found, invitation
        url, password = found.groups()
        session = requests.Session()
        page = session.get(f"{url}/console/sign-in", timeout=10).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        form = {"csrf_token": token, "name": "operator", "password": password, "next": ""}
        signed_in = session.post(f"{url}/console/sign-in", data=form, timeout=10)
        assert signed_in.status_code == 200 and "Amazon stores" in signed_in.text  # followed to the stores page
    finally:
        demo.send_signal(signal.SIGINT)
        _, stderr = demo.communicate(timeout=60)
    assert demo.returncode == 0, stderr[-2000:]  # Ctrl-C is how this demo ends
    assert _processes_with(str(DEMO_DIR / "instance")) == []
