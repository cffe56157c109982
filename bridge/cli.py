"""The ``bridge`` command: ``db upgrade``, ``doctor``, ``demo``."""

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


def _demo() -> int:
    from bridge.demo import run_demo

    return run_demo()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bridge", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    db = commands.add_parser("db", help="database schema")
    db.add_subparsers(dest="db_command", required=True).add_parser("upgrade", help="apply pending migrations")
    commands.add_parser("doctor", help="check configuration, database, Commerce and Amazon access")
    commands.add_parser("demo", help="run the bridge end to end against local stand-ins")
    args = parser.parse_args(argv)
    try:
        if args.command == "db":
            return _db_upgrade()
        if args.command == "doctor":
            return _doctor()
        return _demo()
    except ConfigError as exc:
        print(f"bridge: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
