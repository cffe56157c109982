"""Acceptance: the README's first command, ``make demo`` (``python -m standins.demo``), runs the whole journey and
ends."""

from __future__ import annotations

import os
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


def _typed(command_line: str) -> subprocess.CompletedProcess[str]:
    """A command line as the demo prints it, pasted into a shell with nothing of this test's environment."""
    clean = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/")}
    return subprocess.run(  # noqa: S602 - the line exactly as a person pastes it
        command_line, shell=True, cwd="/", env=clean, capture_output=True, text=True, timeout=60
    )


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux's /proc to find processes")
def test_the_demo_can_stay_up_for_a_person_to_sign_in_to_the_console_and_use_the_cli() -> None:
    demo = subprocess.Popen(
        [sys.executable, "-u", "-m", "standins.demo", "--console"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        printed = []
        for line in demo.stdout:  # until the invitation is whole
            printed.append(line)
            if line.startswith("Ctrl-C stops the demo."):
                break
        invitation = "".join(printed)
        found = re.search(r"(http://\S+)/console/ \(sign in as 'operator', password (\S+)\)", invitation)
        assert found, invitation
        url, password = found.groups()
        session = requests.Session()
        page = session.get(f"{url}/console/sign-in", timeout=10).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        form = {"csrf_token": token, "name": "operator", "password": password, "next": ""}
        signed_in = session.post(f"{url}/console/sign-in", data=form, timeout=10)
        assert signed_in.status_code == 200 and "Amazon stores" in signed_in.text  # followed to the stores page

        orders = re.search(r"Orders to try it on, in the console now: (.+)\.\n", invitation).group(1).split(", ")
        assert len(orders) == 4
        pages = {order: session.get(f"{url}/console/orders/{order}", timeout=10) for order in orders}
        assert {order: page.status_code for order, page in pages.items()} == dict.fromkeys(orders, 200)  # mirrored
        assert f"/console/orders/{orders[0]}/cancel" in pages[orders[0]].text  # its Commerce order known: cancelable

        doctor = next(line.strip() for line in printed if line.strip().endswith("bridge doctor"))
        checked = _typed(doctor)
        assert checked.returncode == 0 and "FAIL" not in checked.stdout, checked.stdout + checked.stderr
        assert "Commerce hooks" in checked.stdout  # subscribed by the demo through Commerce's REST API
        create = next(line.strip() for line in printed if line.strip().endswith("api-tokens create NAME"))
        created = _typed(create.replace(" NAME", " from-the-cli"))
        assert created.returncode == 0, created.stderr
    finally:
        demo.send_signal(signal.SIGINT)
        _, stderr = demo.communicate(timeout=60)
    assert demo.returncode == 0, stderr[-2000:]  # Ctrl-C is how this demo ends
    assert _processes_with(str(DEMO_DIR / "instance")) == []
