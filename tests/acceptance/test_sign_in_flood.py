"""Acceptance: a sign-in flood against the Procfile's ``web`` process (gunicorn, one gevent worker) never stalls its
event loop, so everything else the worker serves (Commerce's hooks, here its health probe) is answered meanwhile.

gevent's own monitor thread watches the loop (``GEVENT_MONITOR_THREAD_ENABLE``): whenever one greenlet holds it for
longer than ``GEVENT_MAX_BLOCKING_TIME`` it writes a report with the stack of what held it to the worker's stderr.
An Argon2 hash run on the loop itself (~130 ms of CPU each) shows up there at once; and the health probe, answered
by the same loop, waits for every hash queued before it.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import requests

from standins.procfile import WebProcess, run_bridge_command, run_release

PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
FLOODERS, GUESSES_EACH = 8, 6
PROBE_EVERY_SECONDS = 0.02  # a health check's pace (a client probing flat out would itself compete for the CPU)
# A report's "Blocked Stack" is what held the loop; its "Info" part that follows shows every thread, hashing ones too.
BLOCKED_STACK = re.compile(r"appears to be blocked.*?Blocked Stack[^\n]*\n(.*?)\nInfo:", re.DOTALL)


def test_a_sign_in_flood_leaves_the_event_loop_free(bridge_env: dict[str, str], tmp_path: Path) -> None:
    env = {**bridge_env, "WEB_CONCURRENCY": "1", "GEVENT_MONITOR_THREAD_ENABLE": "true",
           "GEVENT_MAX_BLOCKING_TIME": "0.05"}  # fmt: skip
    run_release(env)
    run_bridge_command(env, "users", "create", "olivia", "--role", "operator", stdin=PASSWORD + "\n")
    log_file = tmp_path / "web.log"
    web = WebProcess(env, log_file).wait_until_ready()
    answers: list[int] = []
    probes: list[float] = []
    flood_over = threading.Event()

    def flood(flooder: int) -> None:
        """Wrong passwords, each for a name of its own from an address of its own (through the local proxy the
        bridge trusts by default), so that no throttle stops them: every one is hashed."""
        browser = requests.Session()
        token = CSRF.search(browser.get(f"{web.url}/console/sign-in", timeout=10).text).group(1)
        for guess in range(GUESSES_EACH):
            form = {"csrf_token": token, "name": f"guess-{flooder}-{guess}", "password": "not it", "next": ""}
            headers = {"X-Forwarded-For": f"198.18.{flooder}.{guess}"}
            answer = browser.post(f"{web.url}/console/sign-in", data=form, headers=headers, timeout=60)
            answers.append(answer.status_code)

    def probe() -> None:
        while not flood_over.wait(PROBE_EVERY_SECONDS):
            started = time.monotonic()
            requests.get(f"{web.url}/healthz", timeout=10).raise_for_status()
            probes.append(time.monotonic() - started)

    try:
        prober = threading.Thread(target=probe)
        flooders = [threading.Thread(target=flood, args=(index,)) for index in range(FLOODERS)]
        prober.start()
        for thread in flooders:
            thread.start()
        for thread in flooders:
            thread.join()
        flood_over.set()
        prober.join()
    finally:
        assert web.stop() == 0, log_file.read_text()
    assert answers == [401] * FLOODERS * GUESSES_EACH
    held_by_argon2 = [stack for stack in BLOCKED_STACK.findall(log_file.read_text()) if "argon2" in stack]
    assert held_by_argon2 == [], held_by_argon2[0]
    assert probes and max(probes) < 0.5, sorted(probes)[-5:]  # ~2 ms typically, 60 ms at worst on two cores
