"""``bridge users`` and ``bridge api-tokens``: who may use the console and the API.

A password is asked on the terminal (twice, unechoed) or read as the first line of stdin, so that it never lands in
the shell's history or the process list. A new API token is printed once, as the last line of the output, for a
script to capture; only its hash is kept.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from bridge.cli.output import CommandFailed, table, utc
from bridge.composition import Storage, build_accounts
from bridge.errors import UsageError
from bridge.services.sign_in import issue_api_token


def read_password(prompt: str = "Password: ") -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(prompt)
    if getpass.getpass("Once more: ") != first:
        raise UsageError("the two passwords differ; nothing was changed")
    return first


def users_create(storage: Storage, args: argparse.Namespace) -> int:
    build_accounts(storage).create_user(args.name, read_password(), args.role, args.locale)
    print(f"user {args.name} created ({args.role}); they sign in at /console/")
    return 0


def users_list(storage: Storage, _: argparse.Namespace) -> int:
    accounts = storage.users.all()
    failures = storage.sign_in_failures.counts()
    if not accounts:
        print("no users yet: create one with 'bridge users create NAME --role operator'")
        return 0
    rows = [
        (
            user.name, user.role, user.locale or "from the browser", "disabled" if user.disabled else "active",
            str(failures.get(user.name, 0)), utc(user.created_at),
        )
        for user in accounts
    ]  # fmt: skip
    print(table(("name", "role", "language", "status", "wrong passwords in a row", "created"), rows))
    return 0


def users_disable(storage: Storage, args: argparse.Namespace) -> int:
    return _set_disabled(storage, args.name, True, "is disabled: their open sessions end at their next click")


def users_enable(storage: Storage, args: argparse.Namespace) -> int:
    return _set_disabled(storage, args.name, False, "may sign in again (sessions from before stay ended)")


def _no_user(name: str) -> CommandFailed:
    return CommandFailed("not_found", f"no user named {name}: 'bridge users list' shows every account")


def _set_disabled(storage: Storage, name: str, disabled: bool, done: str) -> int:
    if not storage.users.set_disabled(name, disabled):
        raise _no_user(name)
    print(f"user {name} {done}")
    return 0


def users_set_password(storage: Storage, args: argparse.Namespace) -> int:
    if storage.users.named(args.name) is None:  # said before a password is asked for nothing
        raise _no_user(args.name)
    build_accounts(storage).set_password(args.name, read_password("New password: "))
    print(f"user {args.name} has a new password (usable at once); their open sessions end at their next click")
    return 0


def tokens_create(storage: Storage, args: argparse.Namespace) -> int:
    token = issue_api_token(storage.api_tokens, args.name)
    print(f"API token {args.name} created. It is shown only this once; send it as 'Authorization: Bearer <token>':")
    print(token)
    return 0


def tokens_list(storage: Storage, _: argparse.Namespace) -> int:
    tokens = storage.api_tokens.all()
    if not tokens:
        print("no API tokens yet: create one with 'bridge api-tokens create NAME'")
        return 0
    rows = [
        (token.name, "revoked " + utc(token.revoked_at) if token.revoked_at else "live", utc(token.created_at),
         utc(token.last_used_at))
        for token in tokens
    ]  # fmt: skip
    print(table(("name", "status", "created", "last used"), rows))
    return 0


def tokens_revoke(storage: Storage, args: argparse.Namespace) -> int:
    if not storage.api_tokens.revoke(args.name):
        raise CommandFailed(
            "not_found", f"no live API token named {args.name}: 'bridge api-tokens list' shows every token"
        )
    print(f"API token {args.name} revoked: it is refused from now on")
    return 0
