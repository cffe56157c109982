"""Signing in to the console, and issuing API tokens.

Passwords are hashed with Argon2id (argon2-cffi's defaults, the OWASP recommendation) and rehashed on sign-in when
those defaults grow. Wrong passwords are counted per name signed in with, whether an account has that name or not,
and a name that must wait (see ``bridge.domain.sign_in_throttle``) is refused without checking the password: no
answer, and no answer's timing, tells which names exist. Each attempt is counted as a failure before its password
is checked (and forgiven once it proves right), so guesses sent side by side all count. Argon2 is meant to be
costly: a few hashes at a time per process, so that a flood of sign-ins cannot starve Commerce's hooks.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bridge.domain.operators import name_problem, password_problem
from bridge.domain.records import User
from bridge.domain.sign_in_throttle import seconds_to_wait
from bridge.errors import UsageError
from bridge.storage.api_tokens import ApiTokens
from bridge.storage.users import SignInFailures, Users

TOKEN_PREFIX = "bridge_"  # tells a leaked token apart in a secret scanner's findings


CONCURRENT_HASHES = 4  # per process
HASH_SLOT_SECONDS = 5.0  # a sign-in waits this long for one, then is told to try again


class SignInOutcome(StrEnum):
    SIGNED_IN = "signed_in"
    WRONG = "wrong"  # unknown name, wrong password or disabled account: the same answer for all three
    MUST_WAIT = "must_wait"
    BUSY = "busy"  # too many sign-ins at once in this process


@dataclass(frozen=True)
class SignIn:
    outcome: SignInOutcome
    user: User | None = None
    wait_seconds: float = 0.0


class Accounts:
    def __init__(self, users: Users, failures: SignInFailures, clock: Callable[[], float] = time.time) -> None:
        self._users = users
        self._failures = failures
        self._hasher = PasswordHasher()
        self._hash_slots = threading.BoundedSemaphore(CONCURRENT_HASHES)
        self._clock = clock

    def create_user(self, name: str, password: str, role: str, locale: str | None) -> None:
        problem = name_problem(name) or password_problem(password)
        if problem:
            raise UsageError(problem)
        if not self._users.create(name, self._hasher.hash(password), role, locale):
            raise UsageError(f"a user named {name!r} exists already")

    def sign_in(self, name: str, password: str) -> SignIn:
        now = self._clock()
        failures = self._failures.of(name)
        wait = seconds_to_wait(failures.count, failures.last_failed_at, now)
        if wait > 0:
            return SignIn(SignInOutcome.MUST_WAIT, wait_seconds=wait)
        if not self._hash_slots.acquire(timeout=HASH_SLOT_SECONDS):
            return SignIn(SignInOutcome.BUSY)
        try:
            self._failures.note(name, now)
            user = self._users.named(name)
            right = self._verify(user.password_hash if user else self._unknown_user_hash, password)
        finally:
            self._hash_slots.release()
        if user is None or not right or user.disabled:
            return SignIn(SignInOutcome.WRONG)
        self._failures.clear(name)
        if self._hasher.check_needs_rehash(user.password_hash):
            self._users.set_password_hash(user.name, self._hasher.hash(password))
        return SignIn(SignInOutcome.SIGNED_IN, user)

    @cached_property
    def _unknown_user_hash(self) -> str:
        """What a name without an account is checked against: the same cost as a real one, made at first need
        (not at every web process's start)."""
        return self._hasher.hash(secrets.token_urlsafe(16))

    def set_password(self, name: str, password: str) -> None:
        """A new password (an operator forgot theirs, or it leaked); it also lifts the name's sign-in wait."""
        problem = password_problem(password)
        if problem:
            raise UsageError(problem)
        if not self._users.set_password_hash(name, self._hasher.hash(password)):
            raise UsageError(f"no user named {name!r}")
        self._failures.clear(name)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


def issue_api_token(tokens: ApiTokens, name: str) -> str:
    """A new token for ``name``; only its hash is kept, so this is the one time it can be read."""
    problem = name_problem(name)
    if problem:
        raise UsageError(problem)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    if not tokens.add(name, token):
        raise UsageError(f"a token named {name!r} exists already (revoked tokens keep their names)")
    return token
