"""The ``bridge`` command line."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, NoReturn

from bridge.domain.locales import LOCALES
from bridge.errors import ConfigError, UsageError

if TYPE_CHECKING:  # imported late below, so that --help and --version stay fast
    from bridge.composition import Storage

DESCRIPTION = """\
Cancels Amazon marketplace orders from Adobe Commerce and keeps both systems true.

Settings come from the environment and from a .env file in the working directory (the environment wins).
The commands that read or change only the bridge's own records (db, jobs, feeds, drift, users, api-tokens) need
only DATABASE_URL.
"""


def _version() -> str:
    try:
        return version("bridge")
    except PackageNotFoundError:
        return "unknown"


def _storage() -> Storage:
    """The bridge's records, from DATABASE_URL alone, once the database is known to exist and be migrated."""
    from bridge.composition import build_storage
    from bridge.settings import load_database_url
    from bridge.storage.engine import open_existing

    url = load_database_url()
    open_existing(url).dispose()
    return build_storage(url)


def _db(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from bridge.settings import load_database_url
    from bridge.storage.engine import (
        DatabaseUnusable,
        current_revision,
        head_revision,
        make_engine,
        reason_of,
        shown,
        sqlite_file,
    )

    url = load_database_url()
    file = sqlite_file(url)
    if args.db_command == "current" and file is not None and not file.exists():
        raise DatabaseUnusable(f"no database at {file}: create it with 'bridge db upgrade' (or set DATABASE_URL)")
    engine = make_engine(url)
    try:
        if args.db_command == "upgrade":
            from bridge.storage.engine import upgrade

            upgrade(engine)
            print(f"the database at {shown(url)} is at schema {head_revision()}, the newest")
            return 0
        current, head = current_revision(engine), head_revision()
        state = "up to date" if current == head else "behind: run 'bridge db upgrade'"
        print(f"the database at {shown(url)} is at schema {current or 'none'}; this bridge needs {head} ({state})")
        return 0 if current == head else 1
    except SQLAlchemyError as exc:
        raise DatabaseUnusable(
            f"cannot use the database at {shown(url)}: {reason_of(exc)}; check DATABASE_URL"
        ) from None
    finally:
        engine.dispose()


def _doctor(args: argparse.Namespace) -> int:
    from bridge.cli.doctor import render_json, render_table, run_checks

    results = run_checks()
    print(render_json(results) if args.json else render_table(results))
    return 0 if all(r.ok for r in results) else 1


def _worker(_: argparse.Namespace) -> int:
    from bridge.process import start_process

    settings = start_process()  # before the imports below: they load prometheus_client

    from bridge.composition import build_worker
    from bridge.pipeline.worker import run_worker
    from bridge.storage.engine import open_existing

    open_existing(settings.database_url).dispose()  # reachable and migrated, or say what to do and stop
    if settings.metrics.worker_port:  # a worker on a host of its own serves its metrics itself
        from prometheus_client import start_http_server

        from bridge.metrics import scrape_registry

        start_http_server(settings.metrics.worker_port, registry=scrape_registry())
    return run_worker(build_worker(settings))


def _jobs(args: argparse.Namespace) -> int:
    from bridge.cli import jobs

    command = {"list": jobs.jobs_list, "show": jobs.jobs_show, "retry": jobs.jobs_retry}[args.jobs_command]
    return command(_storage(), args)


def _feeds(args: argparse.Namespace) -> int:
    from bridge.cli import jobs

    command = {"list": jobs.feeds_list, "show": jobs.feeds_show}[args.feeds_command]
    return command(_storage(), args)


def _users(args: argparse.Namespace) -> int:
    from bridge.cli import users_and_tokens as cli

    command = {
        "create": cli.users_create, "list": cli.users_list, "disable": cli.users_disable, "enable": cli.users_enable,
        "set-password": cli.users_set_password,
    }  # fmt: skip
    return command[args.users_command](_storage(), args)


def _api_tokens(args: argparse.Namespace) -> int:
    from bridge.cli import users_and_tokens as cli

    command = {"create": cli.tokens_create, "list": cli.tokens_list, "revoke": cli.tokens_revoke}
    return command[args.tokens_command](_storage(), args)


def _hooks(args: argparse.Namespace) -> int:
    from bridge.cli import hooks
    from bridge.composition import build_clients
    from bridge.settings import load_settings
    from bridge.storage.engine import make_engine

    settings = load_settings()
    engine = make_engine(settings.database_url)  # the clients' quota rows: not touched by Commerce's calls
    try:
        command = {"install": hooks.hooks_install, "list": hooks.hooks_list, "remove": hooks.hooks_remove}
        return command[args.hooks_command](settings, build_clients(settings, engine).commerce, args)
    finally:
        engine.dispose()


def _notifications(args: argparse.Namespace) -> int:
    from bridge.cli import notifications
    from bridge.composition import build_clients
    from bridge.settings import load_settings
    from bridge.storage.engine import open_existing

    settings = load_settings()
    engine = open_existing(settings.database_url)  # the quota buckets Amazon's calls share with the worker
    try:
        command = {"subscribe": notifications.notifications_subscribe, "status": notifications.notifications_status}
        return command[args.notifications_command](settings, build_clients(settings, engine).notifications_api, args)
    finally:
        engine.dispose()


def _drift(args: argparse.Namespace) -> int:
    from bridge.cli.drift import run_drift_command

    return run_drift_command(_storage(), args)


class _Parser(argparse.ArgumentParser):
    """Argument errors said like every other error (one line on stderr, JSON under --json, exit 2), with where to
    read what the command takes, instead of argparse's usage block and its own prefix."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.partition(" ")[2]
        raise UsageError(f"{command + ': ' if command else ''}{message}; '{self.prog} --help' says what it takes")


def positive_int(value: str) -> int:
    """``--limit``: 0 or a negative number would not limit anything the way the operator meant."""
    if not value.isdecimal() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of 1 or more, not {value!r}")
    return int(value)


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="bridge", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--version", action="version", version=f"bridge {_version()}")
    commands = top.add_subparsers(dest="command", required=True, metavar="command")

    db = commands.add_parser("db", help="the bridge's database schema").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="bring the schema to this version's (run once per release)").set_defaults(run=_db)
    db.add_parser("current", help="say which schema the database is at, and whether it is this version's").set_defaults(
        run=_db
    )
    doctor = commands.add_parser("doctor", help="check settings, database, Commerce and Amazon access")
    doctor.add_argument("--json", action="store_true", help="one JSON object: every check and the overall result")
    doctor.set_defaults(run=_doctor)
    commands.add_parser("worker", help="run the cancellation pipeline (Procfile 'worker')").set_defaults(run=_worker)

    hooks = commands.add_parser("hooks", help="the bridge's two hooks on Commerce's cancel, over Commerce's REST API")
    hook_commands = hooks.add_subparsers(dest="hooks_command", required=True)
    for name, help_text in (
        ("install", "subscribe the before and after hooks (again: changes nothing, or replaces what differs)"),
        ("list", "what Commerce has of the bridge's hooks, and whether it matches (exit 1 if not)"),
        ("remove", "unsubscribe exactly the bridge's hooks"),
    ):
        command = hook_commands.add_parser(name, help=help_text)
        command.add_argument("--allow-http", action="store_true", help="accept a plain http URL (a test store)")
        if name != "remove":
            command.add_argument("--public-url", help="where Commerce reaches the bridge (default: BRIDGE_PUBLIC_URL)")
            command.add_argument(
                "--edition", choices=("auto", "paas", "saas"), default="auto",
                help="PaaS (on premises, Cloud) or Adobe Commerce as a Cloud Service; auto asks Commerce",
            )  # fmt: skip
        if name == "list":
            command.add_argument("--json", action="store_true", help="one JSON document instead of a table")
        command.set_defaults(run=_hooks)

    notifications = commands.add_parser(
        "notifications", help="Amazon's notifications to the bridge's SQS queue (BRIDGE_SQS_QUEUE_URL)"
    ).add_subparsers(dest="notifications_command", required=True)
    for name, help_text in (
        ("subscribe", "make the queue a destination and subscribe every store (again: changes nothing)"),
        ("status", "what Amazon has: destinations, each store's subscriptions (exit 1 if one is missing)"),
    ):
        command = notifications.add_parser(name, help=help_text)
        command.add_argument("--store", help="only this store (its code in the stores file)")
        command.add_argument("--json", action="store_true", help="one JSON document instead of a table")
        command.set_defaults(run=_notifications)

    jobs = commands.add_parser("jobs", help="list, show and retry cancel requests").add_subparsers(
        dest="jobs_command", required=True
    )
    listing = jobs.add_parser("list", help="cancel requests, newest first")
    listing.add_argument("--state", help="only in this state (e.g. failed, rejected, submitted)")
    listing.add_argument("--store", help="only of this store (its code in the stores file or the bridge's records)")
    listing.add_argument("--order", metavar="INCREMENT_ID", help="only for this Commerce order number")
    listing.add_argument("--amazon-order", metavar="AMAZON_ORDER_ID", help="only for this Amazon order")
    listing.add_argument("--since", help="only changed since: 30m, 2h, 7d, or a UTC date or time")
    listing.add_argument("--limit", type=positive_int, default=50, help="show at most this many (default 50)")
    listing.add_argument("--json", action="store_true", help="one JSON document instead of a table")
    listing.set_defaults(run=_jobs)
    show = jobs.add_parser("show", help="one cancel request, every field")
    show.add_argument("request_id", type=int)
    show.add_argument("--json", action="store_true")
    show.set_defaults(run=_jobs)
    retry = jobs.add_parser("retry", help="start a request that ended without a cancel over, with a fresh budget")
    retry.add_argument("request_id", type=int)
    retry.set_defaults(run=_jobs)

    feeds = commands.add_parser("feeds", help="list and show the feeds sent to Amazon").add_subparsers(
        dest="feeds_command", required=True
    )
    feed_list = feeds.add_parser("list", help="feeds, newest first")
    feed_list.add_argument("--state", help="only in this state (preparing, uploaded, submitted, done, abandoned)")
    feed_list.add_argument("--limit", type=positive_int, default=50, help="show at most this many (default 50)")
    feed_list.add_argument("--json", action="store_true")
    feed_list.set_defaults(run=_feeds)
    feed_show = feeds.add_parser("show", help="one feed and the requests in it")
    feed_show.add_argument("feed_id", type=int)
    feed_show.add_argument("--json", action="store_true")
    feed_show.set_defaults(run=_feeds)

    drift = commands.add_parser("drift", help="orders on which Commerce and Amazon disagree, with counts")
    drift.add_argument("--store", help="only of this store (its code in the stores file or the bridge's records)")
    drift.add_argument("--json", action="store_true", help="one JSON document instead of a table")
    drift.set_defaults(run=_drift)

    users = commands.add_parser("users", help="console accounts").add_subparsers(dest="users_command", required=True)
    create_user = users.add_parser("create", help="a new account; the password is asked, or read from stdin")
    create_user.add_argument("name")
    create_user.add_argument(
        "--role", choices=("viewer", "operator"), required=True, help="operators may also cancel and retry"
    )
    create_user.add_argument("--locale", choices=LOCALES, help="the console's language (default: browser's)")
    create_user.set_defaults(run=_users)
    users.add_parser("list", help="every account, with its role and status").set_defaults(run=_users)
    disable_user = users.add_parser("disable", help="stop an account from signing in (its sessions end too)")
    disable_user.add_argument("name")
    disable_user.set_defaults(run=_users)
    enable_user = users.add_parser("enable", help="let a disabled account sign in again")
    enable_user.add_argument("name")
    enable_user.set_defaults(run=_users)
    set_password = users.add_parser("set-password", help="a new password (asked, or read from stdin); lifts the wait")
    set_password.add_argument("name")
    set_password.set_defaults(run=_users)

    tokens = commands.add_parser("api-tokens", help="tokens for the API").add_subparsers(
        dest="tokens_command", required=True
    )
    create_token = tokens.add_parser("create", help="a new token, printed once as the last line")
    create_token.add_argument("name", help="who or what uses it (recorded with every cancel it makes)")
    create_token.set_defaults(run=_api_tokens)
    tokens.add_parser("list", help="every token's name, status and last use").set_defaults(run=_api_tokens)
    revoke_token = tokens.add_parser("revoke", help="refuse a token from now on")
    revoke_token.add_argument("name")
    revoke_token.set_defaults(run=_api_tokens)

    return top


def main(argv: list[str] | None = None) -> int:
    """Every failure the operator can act on is one line on stderr and an exit code, never a traceback; under --json
    that line is a JSON object, so that a tool reads an error as it reads a result."""
    from sqlalchemy.exc import SQLAlchemyError

    from bridge.cli.output import CommandFailed, print_error
    from bridge.settings import load_dotenv_file
    from bridge.storage.engine import DatabaseUnusable, reason_of

    load_dotenv_file()
    json_output = "--json" in (sys.argv[1:] if argv is None else argv)  # for the errors in the arguments themselves
    try:
        args = parser().parse_args(argv)
        json_output = getattr(args, "json", False)
        run: Callable[[argparse.Namespace], int] = args.run
        return run(args)
    except ConfigError as exc:
        print_error("configuration", str(exc), json_output, problems=exc.problems)
        return 2
    except UsageError as exc:
        print_error("usage", str(exc), json_output)
        return 2
    except CommandFailed as exc:
        print_error(exc.error, str(exc), json_output)
        return 1
    except DatabaseUnusable as exc:
        print_error("database", str(exc), json_output)
        return 3
    except SQLAlchemyError as exc:  # the database failed mid-command (it went away, a table is missing, ...)
        message = f"the database failed: {reason_of(exc)}; check it with 'bridge db current'"
        print_error("database", message, json_output)
        return 3
    except BrokenPipeError:  # `bridge doctor | head`: the reader has all it wanted
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 128 + signal.SIGINT


if __name__ == "__main__":
    sys.exit(main())
