"""``make demo`` (``python -m standins.demo [--console]``): the bridge as deployed (Procfile release, web and
worker; SQLite) against local stand-ins.

Seeds one Commerce/Amazon order pair for every row of the decision table, cancels each the way an admin would
(Commerce calls the signed ``before`` hook, cancels or shows the bridge's message, then calls the ``after`` hook),
then lets the worker carry the accepted cancels through an Amazon feed and back to Commerce, and prints both sides.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shlex
import shutil
import signal
import sys
import textwrap
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, Row, create_engine, text

from standins.amazon.orders import StandInOrder
from standins.procfile import CHECKOUT, run_bridge_command
from standins.world import LocalWorld


@dataclass(frozen=True)
class Scenario:
    entity_id: int
    label: str
    store_id: int
    amazon_status: str | None = "UNSHIPPED"  # None: not an Amazon order
    fulfilled_by: str = "MERCHANT"
    buyer_requested_cancel: bool = False
    amazon_down: bool = False
    ships_after_webhook: bool = False
    commerce_state: str = "processing"  # "holded": Commerce's own canCancel() refuses


SCENARIOS = (
    Scenario(1001, "web-shop order (not Amazon)", 2, amazon_status=None),
    Scenario(1002, "Amazon store not set up", 9),
    Scenario(1003, "order import off", 3),
    Scenario(1004, "fulfilled by Amazon", 2, fulfilled_by="AMAZON"),
    Scenario(1005, "unshipped, seller-fulfilled", 2),
    Scenario(1006, "unshipped, buyer asked to cancel", 1, buyer_requested_cancel=True),
    Scenario(1007, "pending", 2, amazon_status="PENDING"),
    Scenario(1008, "partially shipped", 1, amazon_status="PARTIALLY_SHIPPED"),
    Scenario(1009, "shipped", 1, amazon_status="SHIPPED"),
    Scenario(1010, "already canceled at Amazon", 2, amazon_status="CANCELLED"),
    Scenario(1011, "pre-order awaiting availability", 2, amazon_status="PENDING_AVAILABILITY"),
    Scenario(1012, "unfulfillable", 2, amazon_status="UNFULFILLABLE"),
    Scenario(1013, "Amazon not answering", 2, amazon_down=True),
    Scenario(1014, "unshipped, then ships before the feed", 1, ships_after_webhook=True),
    Scenario(1015, "unshipped, but on hold in Commerce", 2, commerce_state="holded"),
)
FEED_PROCESSING_DELAY = 3.0
FAST_PIPELINE = {  # production defaults are minutes; the demo shortens them, nothing else changes
    "BRIDGE_WORKER_IDLE_SECONDS": "0.5",
    "BRIDGE_FEED_GATHER_SECONDS": "0.5",
}


def _seed(world: LocalWorld, scenario: Scenario) -> str | None:
    if scenario.amazon_status is None:
        world.commerce.add_order(scenario.entity_id, store_id=scenario.store_id, payment_method="checkmo")
        return None
    amazon_order_id = f"{400 + scenario.store_id}-{scenario.entity_id:07d}-{scenario.entity_id * 37:07d}"
    world.commerce.add_order(
        scenario.entity_id, store_id=scenario.store_id, payment_method="amazonpayment", po_number=amazon_order_id,
        state=scenario.commerce_state, status=scenario.commerce_state,
    )  # fmt: skip
    seller = next((s.seller_id for s in world.stores if s.commerce_store_id == scenario.store_id), "A9UNKNOWN")
    marketplace = next((s.marketplace_id for s in world.stores if s.seller_id == seller), "ATVPDKIKX0DER")
    world.amazon.add_order(
        StandInOrder(
            amazon_order_id,
            seller,
            marketplace,
            status=scenario.amazon_status,
            fulfilled_by=scenario.fulfilled_by,
            buyer_requested_cancel=scenario.buyer_requested_cancel,
        )
    )
    if scenario.amazon_down:
        world.amazon.faults.add("getOrder", status=503, times=3)
    return amazon_order_id


DEMO_DIR = CHECKOUT / "instance" / "demo"  # the same folder from wherever the demo is started
# The bridge's final request states (its README's state table).
FINAL_STATES = ("completed", "rejected", "failed", "not_canceled_in_commerce")


def recorded_requests(engine: Engine) -> dict[int, Row]:
    """What the bridge recorded, read from its database as an operator would with SQL."""
    query = text("SELECT commerce_entity_id, state, decision, reason FROM cancel_requests")
    with engine.connect() as connection:
        return {row.commerce_entity_id: row for row in connection.execute(query)}


class Stopped(Exception):
    """SIGTERM or SIGINT (Ctrl-C) reached the demo: stop everything it started, quietly."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _stop(signum: int, _frame: object) -> None:
    raise Stopped(signum)


def run_demo(keep_console: bool = False) -> int:
    """The demo's exit code: 0 when every request reached a final state, 128 + the signal when stopped.

    With ``keep_console`` the bridge stays up afterwards for a person to try the console and the API, until Ctrl-C
    or SIGTERM, which then end the demo normally (0).
    """
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _stop)
    console_open = threading.Event()
    try:
        return _run(LocalWorld(DEMO_DIR), console_open if keep_console else None)
    except Stopped as stopped:
        print(f"\ndemo stopped ({stopped}); every process it started has exited", file=sys.stderr)
        return 0 if console_open.is_set() else 128 + stopped.signum


def _run(world: LocalWorld, console_open: threading.Event | None = None) -> int:
    shutil.rmtree(DEMO_DIR, ignore_errors=True)
    try:
        world.start()
        world.amazon.feed_processing_delay = FEED_PROCESSING_DELAY
        env = world.bridge_env(**FAST_PIPELINE)
        bridge_url = world.start_bridge(env, log_file=DEMO_DIR / "web.log").url
        # As on a real store: the bridge subscribes its hooks through Commerce's REST API, and Commerce calls them.
        run_bridge_command(env, "hooks", "install", "--public-url", bridge_url, "--allow-http")
        print(f"bridge: gunicorn from the Procfile at {bridge_url}, SQLite in {DEMO_DIR}/")
        print("Commerce and Amazon: local stand-ins; Commerce's hooks subscribed by 'bridge hooks install'.")
        print("Each order below is canceled the way an admin would.\n")
        rows = []
        for scenario in SCENARIOS:
            amazon_order_id = _seed(world, scenario)
            canceled, message = world.commerce.cancel(scenario.entity_id)
            rows.append((scenario, amazon_order_id, canceled, message))
        engine = create_engine(env["DATABASE_URL"])
        _print_table(rows, recorded_requests(engine))

        for scenario, amazon_order_id, _, _ in rows:
            if scenario.ships_after_webhook and amazon_order_id:
                world.amazon.set_status(amazon_order_id, "SHIPPED")
        print(
            f"\nThe worker (Procfile 'worker') now sends the accepted cancels; Amazon's stand-in processes each feed "
            f"after {FEED_PROCESSING_DELAY:.0f} s.\n"
        )
        # Seeded before the worker starts, so that its first round (the mirrors' backfill) brings them to the console.
        console_orders = [_seed(world, scenario) for scenario in CONSOLE_SCENARIOS] if console_open is not None else []
        started = time.monotonic()
        world.start_worker(env, log_file=DEMO_DIR / "worker.log")
        finished = _wait_until_final(engine, limit=120)
        outcome = "all requests final" if finished else "NOT all requests final"
        print(f"{outcome} after {time.monotonic() - started:.1f} s\n")
        _print_outcome(world, rows, recorded_requests(engine))
        print(
            f"\nSP-API calls: {dict(sorted(world.amazon.calls.items()))}; 429s caused by the bridge: "
            f"{sum(world.amazon.throttled.values())}; LWA token exchanges: {world.amazon.token_exchanges}"
        )
        print(f"The bridge's JSON logs: {DEMO_DIR / 'web.log'}, {DEMO_DIR / 'worker.log'}")
        print(f"Its records, which stay after the demo: {_records_command(env, 'jobs', 'list')}")
        if console_open is not None:
            _open_console(env, bridge_url, [order for order in console_orders if order], console_open)
        return 0 if finished else 1
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):  # a second Ctrl-C must not cut the clean-up short
            signal.signal(signum, signal.SIG_IGN)
        world.stop()


# Fresh orders to cancel from the console: its own Unshipped one, one the buyer asked to cancel, one already shipped.
CONSOLE_SCENARIOS = (
    Scenario(1101, "for the console", 2),
    Scenario(1102, "for the console: the buyer asked", 2, buyer_requested_cancel=True),
    Scenario(1103, "for the console: partly shipped", 2, amazon_status="PARTIALLY_SHIPPED"),  # open: backfilled
    Scenario(1104, "for the console: Italian store", 1),
)


def _open_console(env: dict[str, str], bridge_url: str, orders: list[str], console_open: threading.Event) -> None:
    """An operator account and an API token, a few orders to cancel, the CLI's settings, and the bridge left running
    until a signal."""
    password = secrets.token_urlsafe(12)
    run_bridge_command(env, "users", "create", "operator", "--role", "operator", stdin=password + "\n")
    token = run_bridge_command(env, "api-tokens", "create", "demo-tool").strip().splitlines()[-1]
    settings = _write_cli_settings({**env, "BRIDGE_PUBLIC_URL": bridge_url})
    print(
        f"\nThe console: {bridge_url}/console/ (sign in as 'operator', password {password}).\n"
        f"Orders to try it on, in the console now: {', '.join(orders)}.\n"
        f"The API: curl -H 'Authorization: Bearer {token}' {bridge_url}/api/v1/cancellations\n"
        f"The CLI: every bridge command run in {shlex.quote(str(DEMO_DIR))} reads the demo's settings (stand-in "
        f"values) from its {settings.name} file, e.g.\n"
        f"  cd {shlex.quote(str(DEMO_DIR))} && {_bridge_script()} doctor\n"
        f"and the commands on the bridge's records need only its database, from anywhere, e.g.\n"
        f"  {_records_command(env, 'api-tokens', 'create', 'NAME')}\n"
        "Ctrl-C stops the demo.",
        flush=True,
    )
    console_open.set()
    threading.Event().wait()  # until SIGINT or SIGTERM raises Stopped


def _bridge_script() -> str:
    """The ``bridge`` command of the interpreter running the demo (the checkout's .venv), as a person types it."""
    script = Path(sys.executable).parent / "bridge"
    return shlex.quote(str(script)) if script.is_file() else "bridge"


def _records_command(env: dict[str, str], *args: str) -> str:
    return f"DATABASE_URL={shlex.quote(env['DATABASE_URL'])} {_bridge_script()} {shlex.join(args)}"


def _write_cli_settings(env: dict[str, str]) -> Path:
    """The demo's settings as a ``.env`` in its folder, which every ``bridge`` command started there reads: the
    stand-ins' addresses and credentials stay in a file (mode 0600, like any .env) instead of on the screen."""
    path = DEMO_DIR / ".env"
    lines = [f"{name}={shlex.quote(value)}" for name, value in sorted(env.items())]
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write("# The demo's settings: stand-ins on loopback, no real credential\n" + "\n".join(lines) + "\n")
    return path


def _wait_until_final(engine: Engine, limit: float) -> bool:
    give_up = time.monotonic() + limit
    while time.monotonic() < give_up:
        if all(r.state in FINAL_STATES for r in recorded_requests(engine).values()):
            return True
        time.sleep(0.2)
    return False


def _print_outcome(world: LocalWorld, rows: list, recorded: dict) -> None:
    header = f"{'order':<10} {'situation':<38} {'Amazon now':<21} {'Commerce state/status':<22} cancel request"
    print(header)
    print("-" * (len(header) + 12))
    for scenario, amazon_order_id, _, _ in rows:
        order = world.commerce.orders[scenario.entity_id]
        amazon = world.amazon.orders.get(amazon_order_id) if amazon_order_id else None
        request = recorded.get(scenario.entity_id)
        print(
            f"{scenario.entity_id:09d}  {scenario.label:<38} {amazon.status if amazon else '-':<21} "
            f"{order['state'] + '/' + order['status']:<22} {request.state if request else '-'}"
        )
        for history in order["status_histories"]:
            print(
                textwrap.fill(
                    history["comment"], 118, initial_indent=" " * 11 + "comment: ", subsequent_indent=" " * 20
                )
            )


def _print_table(rows: list, recorded: dict) -> None:
    header = (
        f"{'order':<10} {'situation':<38} {'Amazon order':<20} {'Amazon status':<21} {'in Commerce':<12} "
        "recorded for Amazon"
    )
    print(header)
    print("-" * (len(header) + 18))
    for scenario, amazon_order_id, canceled, message in rows:
        request = recorded.get(scenario.entity_id)
        record = f"{request.decision}, {request.reason}" if request else "-"
        status = "-" if scenario.amazon_status is None else scenario.amazon_status
        if scenario.amazon_down:
            status += " (no answer)"
        print(
            f"{scenario.entity_id:09d}  {scenario.label:<38} {amazon_order_id or '-':<20} {status:<21} "
            f"{'canceled' if canceled else 'STOPPED':<12} {record}"
        )
        if message:
            print(textwrap.fill(message, 118, initial_indent=" " * 11 + "admin sees: ", subsequent_indent=" " * 23))


def main(argv: list[str] | None = None) -> int:
    """Demo equipment, kept outside the product: the bridge itself never imports the stand-ins."""
    options = argparse.ArgumentParser(prog="python -m standins.demo", description=__doc__.splitlines()[0])
    options.add_argument(
        "--console", action="store_true", help="then keep it running, with an operator account, until Ctrl-C"
    )
    return run_demo(keep_console=options.parse_args(argv).console)


if __name__ == "__main__":
    sys.exit(main())
