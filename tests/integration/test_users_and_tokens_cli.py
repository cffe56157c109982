"""``bridge users`` and ``bridge api-tokens``, run as an operator runs them, with only DATABASE_URL."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import text

from bridge.composition import build_accounts, build_storage
from bridge.services.sign_in import SignInOutcome
from bridge.storage.api_tokens import token_hash
from tests.conftest import BOTH_DATABASES
from tests.integration.test_jobs_cli import bridge_cli

PASSWORD = "a long enough password"
CLIENT = "203.0.113.5"  # the address a sign-in came from


# Accounts and tokens are inserted where PostgreSQL answers differently (a serial key fetched with RETURNING).
pytestmark = BOTH_DATABASES


@pytest.fixture
def env(database_url: str) -> dict[str, str]:
    env = {"DATABASE_URL": database_url}
    assert bridge_cli(env, "db", "upgrade").returncode == 0
    return env


def run_with_stdin(env: dict[str, str], stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    """A password piped in, as a provisioning script would."""
    return subprocess.run(
        [sys.executable, "-m", "bridge.cli", *args], input=stdin, env={"PATH": os.environ["PATH"], **env},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_a_user_created_from_stdin_signs_in_with_that_password_and_nothing_echoes_it(env):
    created = run_with_stdin(env, PASSWORD + "\n", "users", "create", "olivia", "--role", "operator")
    assert created.returncode == 0, created.stderr
    assert PASSWORD not in created.stdout + created.stderr
    storage = build_storage(env["DATABASE_URL"])
    user = storage.users.named("olivia")
    assert user.role == "operator" and user.password_hash.startswith("$argon2id$")
    accounts = build_accounts(storage)
    assert accounts.sign_in("olivia", PASSWORD, CLIENT).outcome is SignInOutcome.SIGNED_IN
    assert accounts.sign_in("olivia", "another password", CLIENT).outcome is SignInOutcome.WRONG

    listing = bridge_cli(env, "users", "list")
    assert "olivia" in listing.stdout and "operator" in listing.stdout and "active" in listing.stdout
    assert bridge_cli(env, "users", "disable", "olivia").returncode == 0
    assert "disabled" in bridge_cli(env, "users", "list").stdout
    assert accounts.sign_in("olivia", PASSWORD, CLIENT).outcome is SignInOutcome.WRONG  # disabled
    assert bridge_cli(env, "users", "enable", "olivia").returncode == 0
    assert accounts.sign_in("olivia", PASSWORD, CLIENT).outcome is SignInOutcome.SIGNED_IN
    new = run_with_stdin(env, "a brand new password\n", "users", "set-password", "olivia")
    assert new.returncode == 0, new.stderr
    assert accounts.sign_in("olivia", PASSWORD, CLIENT).outcome is SignInOutcome.WRONG
    assert accounts.sign_in("olivia", "a brand new password", CLIENT).outcome is SignInOutcome.SIGNED_IN


def test_disable_enable_and_set_password_each_end_every_session_of_the_account(env):
    """The commands themselves end the sessions (the console compares each session's version with the account's),
    so that a leaked cookie is worthless once an administrator acts."""
    assert run_with_stdin(env, PASSWORD + "\n", "users", "create", "olivia", "--role", "viewer").returncode == 0
    users = build_storage(env["DATABASE_URL"]).users
    versions = [users.named("olivia").session_version]
    for command in (("users", "disable", "olivia"), ("users", "enable", "olivia")):
        assert bridge_cli(env, *command).returncode == 0
        versions.append(users.named("olivia").session_version)
    new = run_with_stdin(env, "a brand new password\n", "users", "set-password", "olivia")
    assert new.returncode == 0 and "their open sessions end" in new.stdout
    versions.append(users.named("olivia").session_version)
    assert versions == [0, 1, 2, 3]


def test_bad_users_are_refused_with_a_reason_and_nothing_is_created(env):
    short = run_with_stdin(env, "short\n", "users", "create", "olivia", "--role", "viewer")
    assert short.returncode == 2 and "at least 12 characters" in short.stderr
    bad_name = run_with_stdin(env, PASSWORD + "\n", "users", "create", "o livia", "--role", "viewer")
    assert bad_name.returncode == 2 and "letters, digits" in bad_name.stderr
    assert run_with_stdin(env, PASSWORD + "\n", "users", "create", "olivia", "--role", "viewer").returncode == 0
    again = run_with_stdin(env, PASSWORD + "\n", "users", "create", "olivia", "--role", "operator")
    assert again.returncode == 2 and "exists already" in again.stderr
    assert [user.role for user in build_storage(env["DATABASE_URL"]).users.all()] == ["viewer"]
    assert bridge_cli(env, "users", "disable", "nobody").returncode == 1


def test_an_account_or_token_that_does_not_exist_is_an_error_on_stderr(env):
    """Said as every error is (exit 1, stdout empty), and before a password is asked for an account that is not."""
    for command in (("users", "disable", "nobody"), ("users", "enable", "nobody"), ("api-tokens", "revoke", "none")):
        said = bridge_cli(env, *command)
        assert said.returncode == 1 and said.stdout == "", command
        assert said.stderr.startswith("bridge: no ") and len(said.stderr.splitlines()) == 1, command
    asked = run_with_stdin(env, PASSWORD + "\n", "users", "set-password", "nobody")
    assert asked.returncode == 1 and asked.stdout == ""
    assert asked.stderr.startswith("bridge: no user named nobody")


def test_an_api_token_is_printed_once_kept_hashed_and_revocable(env):
    created = bridge_cli(env, "api-tokens", "create", "fraud-check")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("bridge_") and len(token) > 40
    storage = build_storage(env["DATABASE_URL"])
    assert storage.api_tokens.holder_of(token) == "fraud-check"
    with storage.engine.connect() as connection:  # only its hash is kept
        stored = [str(value) for row in connection.execute(text("SELECT * FROM api_tokens")) for value in row]
    assert token not in stored and token_hash(token) in stored

    listing = bridge_cli(env, "api-tokens", "list")
    assert "fraud-check" in listing.stdout and "live" in listing.stdout and token not in listing.stdout
    assert bridge_cli(env, "api-tokens", "create", "fraud-check").returncode == 2  # names are unique
    assert bridge_cli(env, "api-tokens", "revoke", "fraud-check").returncode == 0
    assert storage.api_tokens.holder_of(token) is None
    assert "revoked" in bridge_cli(env, "api-tokens", "list").stdout
    assert bridge_cli(env, "api-tokens", "revoke", "fraud-check").returncode == 1
