"""The ``bridge`` command: ``db upgrade``, ``doctor``, ``worker``, ``jobs``, ``demo``."""

from __future__ import annotations

import argparse
import sys

from bridge.config import load_settings
from bridge.database import make_engine, upgrade
from bridge.errors import ConfigError


def _db_upgrade() -> int:
    settings = load_settings()
    upgrade(make_engine(settings.database_url))
    print("database schema is up to date")
    return 0


def _doctor() -> int:
    from bridge.doctor import render_table, run_checks

    results = run_checks()
    print(render_table(results))
    return 0 if all(r.ok for r in results) else 1


def _worker() -> int:
    from bridge.logs import configure_logging
    from bridge.services import build_services
    from bridge.worker import run_worker

    settings = load_settings()
    configure_logging(settings.log_level)
    return run_worker(build_services(settings))


def _jobs(args: argparse.Namespace) -> int:
    from bridge.jobs_cli import run_jobs_command

    return run_jobs_command(args)


def _demo() -> int:
    from bridge.demo import run_demo

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
        return _demo()
    except ConfigError as exc:
        print(f"bridge: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
