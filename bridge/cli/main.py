"""The ``bridge`` command: ``db upgrade``, ``doctor``, ``worker``, ``jobs``, ``drift``, ``demo``."""

from __future__ import annotations

import argparse
import sys

from bridge.errors import ConfigError
from bridge.settings import load_settings
from bridge.storage.engine import make_engine, upgrade


def _db_upgrade() -> int:
    settings = load_settings()
    upgrade(make_engine(settings.database_url))
    print("database schema is up to date")
    return 0


def _doctor() -> int:
    from bridge.cli.doctor import render_table, run_checks

    results = run_checks()
    print(render_table(results))
    return 0 if all(r.ok for r in results) else 1


def _worker() -> int:
    from bridge.composition import build_bridge
    from bridge.logs import configure_logging
    from bridge.pipeline.worker import run_worker

    settings = load_settings()
    configure_logging(settings.log_level, settings.secrets)
    return run_worker(build_bridge(settings))


def _jobs(args: argparse.Namespace) -> int:
    from bridge.cli.jobs import run_jobs_command

    return run_jobs_command(args)


def _demo() -> int:
    """The demo runs on the local stand-ins, which are test and demo equipment kept outside the product."""
    try:
        from standins.demo import run_demo
    except ImportError:
        print("bridge: the demo needs the 'standins' package of a source checkout (make demo)", file=sys.stderr)
        return 2
    return run_demo()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bridge", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    db = commands.add_parser("db", help="database schema")
    db.add_subparsers(dest="db_command", required=True).add_parser("upgrade", help="apply pending migrations")
    commands.add_parser("doctor", help="check configuration, database, Commerce and Amazon access")
    commands.add_parser("worker", help="run the cancellation pipeline (feeds, confirmation, write-back)")
    jobs = commands.add_parser("jobs", help="see and retry cancel requests").add_subparsers(dest="jobs_command")
    jobs.required = True
    listing = jobs.add_parser("list", help="every request, newest last")
    listing.add_argument("--state", help="only requests in this state")
    listing.add_argument("--limit", type=int, default=200)
    jobs.add_parser("show", help="one request in full").add_argument("request_id", type=int)
    jobs.add_parser("retry", help="send a rejected or failed request again").add_argument("request_id", type=int)
    drift = commands.add_parser("drift", help="orders on which Commerce and Amazon disagree, with counts")
    drift.add_argument("--json", action="store_true", help="one JSON document instead of a table")
    commands.add_parser("demo", help="run the bridge end to end against local stand-ins")
    args = parser.parse_args(argv)
    try:
        if args.command == "db":
            return _db_upgrade()
        if args.command == "doctor":
            return _doctor()
        if args.command == "worker":
            return _worker()
        if args.command == "jobs":
            return _jobs(args)
        if args.command == "drift":
            from bridge.cli.drift import run_drift_command

            return run_drift_command(args.json)
        return _demo()
    except ConfigError as exc:
        print(f"bridge: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
