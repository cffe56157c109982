"""Signing in to the console, and issuing API tokens.

Passwords are hashed with Argon2id (argon2-cffi's defaults, the OWASP recommendation) and rehashed on sign-in when
those defaults grow; the hashing runs on real threads, a few at a time (``HashingThreads`` says why).

The throttle counts before it checks. An attempt first takes its place, as a failure, in the count of the name
signed in with and in that of the client address it came from, in one atomic statement per count
(``SignInFailures.take_places``); only an attempt both rules (``bridge.domain.sign_in_throttle``) let through has
its password checked, so however many guesses arrive together, no more than the rules allow reach Argon2, and the
rest are refused without it. A right password then clears the name's count (unless guesses counted after it are
still out: they keep it) and gives its place in the address's count back; an attempt that found no hashing slot
gives back both. Names are counted whether or not an account has them, so no answer, nor its timing, tells which
names exist. What is kept of a name no account has is a keyed hash, never the name as typed: a password typed into
the name field must not land in the database (nor in the log: see ``SignIn.account``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property, partial
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from gevent.monkey import is_module_patched
from gevent.threadpool import ThreadPool

from bridge.domain.operators import name_problem, password_problem
from bridge.domain.records import User
from bridge.domain.sign_in_throttle import BY_CLIENT, BY_NAME, FORGOTTEN_AFTER_SECONDS
from bridge.errors import UsageError
from bridge.storage.api_tokens import ApiTokens
from bridge.storage.sign_in_failures import Counter, Refused, SignInFailures
from bridge.storage.users import Users

TOKEN_PREFIX = "bridge_"  # tells a leaked token apart in a secret scanner's findings


CONCURRENT_HASHES = 4  # per process
HASH_SLOT_SECONDS = 5.0  # a sign-in waits this long for one, then is told to try again
HASHING_NICENESS = 10  # of the hashing threads: a busy core gives the event loop (niceness 0) ~10 times their share
# What the sign-in counts are kept under. Account names start with a letter or digit, so these never meet one.
UNKNOWN_NAME_PREFIX = "#"  # then the keyed hash of a name no account has
CLIENT_PREFIX = "@"  # then the client's address
T = TypeVar("T")


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
    waiting_per: str = ""  # MUST_WAIT: what made it wait (the name, or the client address)
    # The account the name typed belongs to, for the log; None when no account has it: what was typed is then
    # never logged, for it may be a password typed into the wrong field.
    account: str | None = None


class NoHashingSlot(Exception):
    """Every hashing slot of this process stayed busy for the whole wait."""


class HashingThreads:
    """Where Argon2 runs: on real OS threads, at most ``slots`` at a time per process.

    Why: an Argon2 verify is ~130 ms of CPU. Under gunicorn's gevent workers every greenlet of a process shares one
    OS thread, so a verify run there stalls them all, Commerce's hooks included, and a flood of sign-ins would
    starve them. argon2-cffi releases the GIL inside its C call, so on a thread of a gevent thread pool the hash runs
    beside the event loop and only the greenlet signing in waits for it. Without gevent's monkey patching (the
    commands, the tests, a development server) callers are OS threads already and call it directly. The hashing
    threads also give way to the event loop for the CPU (``_yielding``). Either way the slots bound what a flood can
    cost (CPU, and 64 MiB of memory a hash); a caller that finds none free within ``wait_seconds`` gets
    ``NoHashingSlot``. Made in the process that uses it: under gunicorn, once the worker has patched ``threading``,
    so that waiting for a slot is cooperative too.
    """

    def __init__(self, slots: int = CONCURRENT_HASHES, wait_seconds: float = HASH_SLOT_SECONDS) -> None:
        self._slots = threading.BoundedSemaphore(slots)
        self._size = slots
        self._wait_seconds = wait_seconds
        self._pool: ThreadPool | None = None

    def run(self, work: Callable[[], T]) -> T:
        if not self._slots.acquire(timeout=self._wait_seconds):
            raise NoHashingSlot
        try:
            if not is_module_patched("threading"):
                return work()
            if self._pool is None:  # at first need, inside the worker (a pool does not survive a fork)
                self._pool = ThreadPool(self._size)
            return self._pool.spawn(_yielding, work).get()
        finally:
            self._slots.release()


def _yielding(work: Callable[[], T]) -> T:
    """``work()`` on a hashing thread that gives way to the event loop's thread. Off the loop is not enough where
    cores are few: four hashes of four lanes each (Argon2 runs its lanes on threads it starts, which inherit this
    niceness) would otherwise get the CPU as often as the loop, and a flood would still slow every hook (measured on
    two cores: health probes took up to 0.76 s; with this, 0.03 s). Idle cores still go to the hashes."""
    if sys.platform == "linux":  # there a thread's niceness is its own (PRIO_PROCESS with a thread id)
        with suppress(OSError):  # a sandbox that forbids it: the hash still runs, only without giving way
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)
    return work()


def unknown_names_key(secret_key: str | None) -> bytes:
    """The key of the hash kept for names no account has: derived from the web's secret key, so that every web
    process (and every host sharing ``BRIDGE_SECRET_KEY``) counts a name alike, while the database alone does not
    let anyone test guesses at what was typed. Without one (the commands, which sign nobody in), a key of this
    process's own."""
    if not secret_key:
        return secrets.token_bytes(32)
    return hmac.new(secret_key.encode(), b"bridge sign-in: names no account has", hashlib.sha256).digest()


class Accounts:
    def __init__(
        self,
        users: Users,
        failures: SignInFailures,
        unknown_names_key: bytes,
        clock: Callable[[], float] = time.time,
        hashing: HashingThreads | None = None,
    ) -> None:
        self._users = users
        self._failures = failures
        self._unknown_names_key = unknown_names_key
        self._hasher = PasswordHasher()
        self._hashing = hashing or HashingThreads()
        self._clock = clock

    def create_user(self, name: str, password: str, role: str, locale: str | None) -> None:
        problem = name_problem(name) or password_problem(password)
        if problem:
            raise UsageError(problem)
        if not self._users.create(name, self._hasher.hash(password), role, locale):
            raise UsageError(f"a user named {name!r} exists already")

    def sign_in(self, name: str, password: str, client: str) -> SignIn:
        """``client``: the address the attempt came from (``bridge.domain.sign_in_throttle.client_address``)."""
        now = self._clock()
        user = self._users.named(name)
        account = user.name if user else None
        by_name, by_client = self._name_counter(name, user), Counter(CLIENT_PREFIX + client, BY_CLIENT)
        places = self._failures.take_places([by_name, by_client], now)
        if isinstance(places, Refused):
            return SignIn(SignInOutcome.MUST_WAIT, wait_seconds=places.wait_seconds,
                          waiting_per=places.counter.rule.per, account=account)  # fmt: skip
        try:
            right = self._hashing.run(partial(self._verify, user.password_hash if user else None, password))
        except NoHashingSlot:
            self._failures.give_back([by_name.key, by_client.key])
            return SignIn(SignInOutcome.BUSY, account=account)
        if user is None or not right or user.disabled:
            self._failures.prune(now - FORGOTTEN_AFTER_SECONDS)
            return SignIn(SignInOutcome.WRONG, account=account)
        self._failures.forgive(by_name.key, places[0])
        self._failures.give_back([by_client.key])
        if self._hasher.check_needs_rehash(user.password_hash):
            with suppress(NoHashingSlot):  # a busy moment: rehashed at a later sign-in
                self._users.set_password_hash(user.name, self._hashing.run(partial(self._hasher.hash, password)))
        return SignIn(SignInOutcome.SIGNED_IN, user, account=user.name)

    def _name_counter(self, name: str, user: User | None) -> Counter:
        """An account's own name, as it is; any other name typed, as its keyed hash."""
        if user is not None:
            return Counter(user.name, BY_NAME)
        digest = hmac.new(self._unknown_names_key, name.encode(), hashlib.sha256).digest()
        return Counter(UNKNOWN_NAME_PREFIX + base64.urlsafe_b64encode(digest).decode().rstrip("="), BY_NAME)

    @cached_property
    def _unknown_user_hash(self) -> str:
        """What a name without an account is checked against: the same cost as a real one, made at first need
        (not at every web process's start)."""
        return self._hasher.hash(secrets.token_urlsafe(16))

    def set_password(self, name: str, password: str) -> None:
        """A new password (an operator forgot theirs, or it leaked): every session of the account ends, and the
        name's sign-in wait is lifted."""
        problem = password_problem(password)
        if problem:
            raise UsageError(problem)
        if not self._users.change_password_hash(name, self._hasher.hash(password)):
            raise UsageError(f"no user named {name!r}")
        self._failures.clear(name)

    def _verify(self, password_hash: str | None, password: str) -> bool:
        """``password_hash`` None: a name without an account, checked at the same cost as one with."""
        try:
            return self._hasher.verify(password_hash or self._unknown_user_hash, password)
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
