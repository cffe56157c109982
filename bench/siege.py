"""A siege of the Procfile's web process: trickled bodies and a sign-in flood while Commerce's hooks keep coming.

For each database (SQLite, then PostgreSQL when reachable) the bridge runs as deployed: release, then the ``web``
line alone (gunicorn, its default workers), against the local stand-ins, with warm mirrors (so a hook needs no
outbound call) and an operator account. First the throttle race: 41 sign-ins for one name sent at the same moment,
40 wrong and the right one among them; how many reached the password check (answered anything but 429). Then, for
``--seconds``:
  - ``--slow`` connections each send a full request head with ``Content-Length: 60000`` and then one body byte every
    two seconds (to the sign-in page, the hook path and the API), and reconnect when the bridge drops them;
  - ``--flooders`` clients post wrong passwords for made-up names to the sign-in page as fast as they are answered,
    each guess from another address (``X-Forwarded-For``, which the bridge trusts from loopback by default): the
    worst case, a botnet, where neither the per-name nor the per-address ceiling spares a single hash;
  - Commerce's signed ``before`` hook arrives twice a second, each for another Amazon order.
It prints the hooks' median, p95 and max, how many came later than the hook's timeout (3 s, as config/webhooks.xml
installs it) or were not ``success``, and what became of the slow connections and the flood.

    python -m bench.siege [--seconds 30] [--slow 2500] [--flooders 24] [--postgres URL | --sqlite]

Writes bench/results/siege.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import selectors
import shutil
import socket
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests

from bench.figures import database, percentile
from bench.warm_mirrors import DEFAULT_POSTGRES, STORE, mirrors_warm, seed_amazon, seed_commerce, wait_for
from standins.commerce_webhook import HookUnreachable
from standins.databases import postgres_reachable
from standins.procfile import run_bridge_command
from standins.world import LocalWorld

RESULTS = Path("bench/results")
HOOK_TIMEOUT = 3.0  # config/webhooks.xml: timeout="3000"
HOOKS_PER_SECOND = 2
RACERS = 41
OPERATOR, PASSWORD = "olivia", "correct horse battery staple"
SLOW_PATHS = ("/console/sign-in", "/webhooks/commerce/order-cancel", "/api/v1/cancellations")
TRICKLE_SECONDS = 2.0
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def sign_in_form(url: str) -> tuple[requests.Session, str]:
    """A browser's first step: the sign-in page, its session cookie and its CSRF token."""
    session = requests.Session()
    page = session.get(f"{url}/console/sign-in", timeout=30)
    found = _CSRF.search(page.text)
    if found is None:
        raise RuntimeError("no CSRF token on the sign-in page")
    return session, found.group(1)


def throttle_race(url: str) -> dict[str, Any]:
    """41 sign-ins for one name at the same moment: how many were let through to the password check."""
    forms = [sign_in_form(url) for _ in range(RACERS)]
    start = threading.Barrier(RACERS)
    statuses: list[int] = []
    lock = threading.Lock()

    def guess(index: int) -> None:
        session, token = forms[index]
        password = PASSWORD if index == RACERS // 2 else f"wrong guess {index}"
        start.wait()
        answer = session.post(
            f"{url}/console/sign-in",
            data={"csrf_token": token, "name": OPERATOR, "password": password},
            allow_redirects=False,
            timeout=60,
        )
        with lock:
            statuses.append(answer.status_code)

    threads = [threading.Thread(target=guess, args=(index,)) for index in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counted = Counter(statuses)
    return {
        "guesses": RACERS,
        "reached_password_check": sum(count for status, count in counted.items() if status != 429),
        "signed_in": counted.get(302, 0),
        "answers": dict(sorted(counted.items())),
    }


class Trickler:
    """``count`` connections that send a request head and then a body byte every TRICKLE_SECONDS, in one thread."""

    def __init__(self, url: str, count: int) -> None:
        host, port = url.removeprefix("http://").split(":")
        self._address = (host, int(port))
        self._count = count
        self._selector = selectors.DefaultSelector()
        self.opened = self.cut_off = self.refused = 0
        self.answers: Counter[str] = Counter()

    def _open(self, index: int) -> None:
        try:
            connection = socket.create_connection(self._address, timeout=5)
        except OSError:
            self.refused += 1
            return
        path = SLOW_PATHS[index % len(SLOW_PATHS)]
        connection.sendall(f"POST {path} HTTP/1.1\r\nHost: bridge\r\nContent-Length: 60000\r\n\r\n".encode())
        connection.setblocking(False)
        self._selector.register(connection, selectors.EVENT_READ, index)
        self.opened += 1

    def run(self, until: float) -> None:
        for index in range(self._count):
            self._open(index)
        next_byte = time.monotonic()
        while time.monotonic() < until:
            for key, _ in self._selector.select(timeout=0.2):  # the bridge answered (408) or closed: reconnect
                connection = key.fileobj
                try:
                    first = connection.recv(64)  # type: ignore[union-attr]
                except OSError:
                    first = b""
                self.answers[first[:12].decode(errors="replace") or "closed"] += 1
                self.cut_off += 1
                self._selector.unregister(connection)
                connection.close()  # type: ignore[union-attr]
                self._open(key.data)
            if time.monotonic() >= next_byte:
                for key in list(self._selector.get_map().values()):
                    with contextlib.suppress(OSError):  # dropped meanwhile: the selector reports it next
                        key.fileobj.send(b"x")  # type: ignore[union-attr]
                next_byte = time.monotonic() + TRICKLE_SECONDS
        for key in list(self._selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        self._selector.close()


def flood(url: str, until: float, tally: Counter[int]) -> None:
    """One flooder: wrong passwords for made-up names, as fast as the bridge answers."""
    try:
        session, token = sign_in_form(url)
    except (requests.RequestException, RuntimeError):
        tally[0] += 1  # could not even load the sign-in page
        return
    guess = 0
    while time.monotonic() < until:
        guess += 1
        address = f"10.{threading.get_ident() % 250}.{guess // 250 % 250}.{guess % 250}"
        try:
            answer = session.post(
                f"{url}/console/sign-in",
                data={"csrf_token": token, "name": f"guess{guess}-{threading.get_ident()}", "password": "nope nope"},
                headers={"X-Forwarded-For": address},
                allow_redirects=False,
                timeout=30,
            )
            tally[answer.status_code] += 1
        except requests.RequestException:
            tally[0] += 1


def hooks(world: LocalWorld, url: str, until: float, first_id: int) -> tuple[list[float], Counter[str]]:
    """Commerce's signed before hooks, twice a second, each on its own connection as Commerce's cURL opens one."""
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    threads = []

    def one(entity_id: int) -> None:
        client = world.hook(url, timeout=30)
        started = time.perf_counter()
        try:
            call = client.post({"subject": [], "id": str(entity_id)})
            outcome = call.json().get("op", "?") if call.status_code == 200 else f"HTTP {call.status_code}"
        except HookUnreachable:
            outcome = "no answer"
        elapsed = time.perf_counter() - started
        with lock:
            latencies.append(elapsed)
            outcomes[outcome] += 1

    entity_id = first_id
    next_at = time.monotonic()
    while next_at < until:
        time.sleep(max(0.0, next_at - time.monotonic()))  # the hooks' pace, not a synchronisation
        thread = threading.Thread(target=one, args=(entity_id,))
        thread.start()
        threads.append(thread)
        entity_id += 1
        next_at += 1 / HOOKS_PER_SECOND
    for thread in threads:
        thread.join()
    return latencies, outcomes


def run(postgres: str | None, seconds: float, slow: int, flooders: int) -> dict[str, Any]:
    name = "postgresql" if postgres else "sqlite"
    workdir = Path(f"instance/bench-siege/{name}").resolve()
    shutil.rmtree(workdir, ignore_errors=True)
    world = LocalWorld(workdir).start()
    try:
        with database(postgres, workdir) as database_url:
            env = world.bridge_env(DATABASE_URL=database_url, BRIDGE_COMMERCE_LINKS_REFRESH_SECONDS="2")
            hook_ids = range(1, int(seconds * HOOKS_PER_SECOND) + 20)
            seed_amazon(world, hook_ids)
            seed_commerce(world, hook_ids)
            web = world.start_bridge(env, workdir / "web.log")
            worker = world.start_worker(env, workdir / "worker.log")
            wait_for(lambda: mirrors_warm(database_url), 120, "mirrors did not warm up")
            worker.stop()  # the web line alone from here on
            run_bridge_command(env, "users", "create", OPERATOR, "--role", "operator", stdin=PASSWORD + "\n")
            race = throttle_race(web.url)

            until = time.monotonic() + seconds
            trickler = Trickler(web.url, slow)
            tally: Counter[int] = Counter()
            besiegers = [threading.Thread(target=trickler.run, args=(until,))]
            besiegers += [threading.Thread(target=flood, args=(web.url, until, tally)) for _ in range(flooders)]
            for thread in besiegers:
                thread.start()
            latencies, outcomes = hooks(world, web.url, until, hook_ids[0])
            for thread in besiegers:
                thread.join()
            return {
                "database": name,
                "hooks": len(latencies),
                "hook_median_ms": round(percentile(latencies, 0.5) * 1000, 1),
                "hook_p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
                "hook_max_ms": round(max(latencies) * 1000, 1),
                "hooks_late": sum(latency > HOOK_TIMEOUT for latency in latencies),
                "hooks_not_success": sum(count for outcome, count in outcomes.items() if outcome != "success"),
                "hook_outcomes": dict(outcomes),
                "slow_connections_opened": trickler.opened,
                "slow_connections_cut_off": trickler.cut_off,
                "slow_connections_refused": trickler.refused,
                "slow_answers": dict(trickler.answers),
                "sign_ins_flooded": sum(tally.values()),
                "sign_in_answers": dict(sorted(tally.items())),
                "race_reached_password_check": race["reached_password_check"],
                "race_signed_in": race["signed_in"],
                "race_answers": race["answers"],
            }
    finally:
        world.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--slow", type=int, default=2500)
    parser.add_argument("--flooders", type=int, default=24)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--sqlite", action="store_true", help="SQLite only, even if PostgreSQL is reachable")
    args = parser.parse_args()
    databases: list[str | None] = [None]
    if not args.sqlite and postgres_reachable(args.postgres):
        databases.append(args.postgres)
    results = [run(postgres, args.seconds, args.slow, args.flooders) for postgres in databases]
    print(f"{args.slow} slow-body connections, {args.flooders} sign-in flooders, {HOOKS_PER_SECOND} signed hooks/s, "
          f"{args.seconds:g} s; store {STORE.code}")  # fmt: skip
    for key in results[0]:
        print(f"{key:<30}" + "  ".join(f"{result[key]!s:>28}" for result in results))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "siege.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
