"""Signing in to the console, and issuing API tokens.

Passwords are hashed with Argon2id (argon2-cffi's defaults, the OWASP recommendation) and rehashed on sign-in when
those defaults grow. A sign-in is refused without checking the password while the account must wait (see
``bridge.domain.sign_in_throttle``); an unknown name costs the same hash as a known one, so the answer's timing
does not tell which names exist.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bridge.domain.accounts import name_problem, password_problem
from bridge.domain.sign_in_throttle import seconds_to_wait
from bridge.errors import UsageError
from bridge.storage.api_tokens import ApiTokens
from bridge.storage.users import User, Users

TOKEN_PREFIX = "bridge_"  # tells a leaked token apart in a secret scanner's findings


class SignInOutcome(StrEnum):
    SIGNED_IN = "signed_in"
    WRONG = "wrong"  # unknown name, wrong password or disabled account: the same answer for all three
    MUST_WAIT = "must_wait"


@dataclass(frozen=True)
class SignIn:
    outcome: SignInOutcome
    user: User | None = None
    wait_seconds: float = 0.0


class Accounts:
    def __init__(self, users: Users, clock: Callable[[], float] = time.time) -> None:
        self._users = users
        self._hasher = PasswordHasher()
        self._unknown_user_hash = self._hasher.hash(secrets.token_urlsafe(16))
        self._clock = clock

    def create_user(self, name: str, password: str, role: str, locale: str | None) -> None:
        problem = name_problem(name) or password_problem(password)
        if problem:
            raise UsageError(problem)
        if not self._users.create(name, self._hasher.hash(password), role, locale):
            raise UsageError(f"a user named {name!r} exists already")

    def sign_in(self, name: str, password: str) -> SignIn:
        now = self._clock()
        user = self._users.named(name)
        if user is None:
            self._verify(self._unknown_user_hash, password)
            return SignIn(SignInOutcome.WRONG)
        wait = seconds_to_wait(user.failed_sign_ins, user.last_failed_at, now)
        if wait > 0:
            return SignIn(SignInOutcome.MUST_WAIT, wait_seconds=wait)
        if not self._verify(user.password_hash, password) or user.disabled:
            self._users.note_failure(user.id, now)
            return SignIn(SignInOutcome.WRONG)
        if user.failed_sign_ins:
            self._users.clear_failures(user.id)
        if self._hasher.check_needs_rehash(user.password_hash):
            self._users.set_password_hash(user.id, self._hasher.hash(password))
        return SignIn(SignInOutcome.SIGNED_IN, user)

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
