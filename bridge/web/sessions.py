"""Console sessions: who is signed in, and what they may do.

Flask's signed cookie session (itsdangerous, keyed by ``BRIDGE_SECRET_KEY`` or a key kept in the instance folder)
holds only the user's id and the account's session version at sign-in. The cookie is ``HttpOnly`` and
``SameSite=Lax``, and ``Secure`` whenever the request came over TLS (directly, or through a proxy gunicorn trusts).
A signed cookie cannot be taken back, so every request loads the account again and compares the versions: signing
out, a new password and disabling raise the account's version, and every cookie issued before (a copy taken from a
shared computer or a leaked log included) opens nothing from the next click on.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from flask import Flask, abort, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface

from bridge.domain.operators import may_change_orders
from bridge.domain.records import User
from bridge.settings import Settings
from bridge.web.app_services import current_services

SESSION_LIFETIME = timedelta(hours=12)
SECRET_KEY_FILE = "secret_key"
View = TypeVar("View", bound=Callable[..., Any])


class TlsAwareSessionInterface(SecureCookieSessionInterface):
    """``Secure`` cookies behind TLS, plain ones on a local http demo (where a Secure cookie would never come back)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure


def secret_key_of(settings: Settings) -> str:
    """``BRIDGE_SECRET_KEY``, or one made once and kept (mode 0600) in the instance folder for every process of
    this host. Several hosts behind one address must share ``BRIDGE_SECRET_KEY``."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.instance_path) / SECRET_KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Written whole under another name, then linked into place: gunicorn's workers start together, and none
        # may read a key half-written; the first link wins and every worker reads that one.
        draft = path.with_name(f"{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(secrets.token_urlsafe(48))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another worker's key is in place
        finally:
            draft.unlink()
    return path.read_text(encoding="ascii").strip()


def init_sessions(app: Flask, settings: Settings) -> None:
    app.secret_key = secret_key_of(settings)
    app.session_interface = TlsAwareSessionInterface()
    app.config.update(
        SESSION_COOKIE_NAME="bridge_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
    )


def sign_in_as(user: User) -> None:
    session.clear()  # nothing from before the sign-in survives it
    session.permanent = True
    session["user_id"] = user.id
    session["session_version"] = user.session_version


def sign_out() -> User | None:
    """Ends every session of the signed-in account (copies of this cookie included), and returns who that was. This
    browser's session ends even when the database cannot be told (its error still answers "try again")."""
    try:
        user = current_user()
        if user is not None:
            current_services().users.end_sessions(user.id)
        return user
    finally:
        session.clear()
        g.user = None


def current_user() -> User | None:
    """The signed-in account, loaded once per request; None (and the session ended) if it is gone or disabled, or
    its sessions were ended since this one began."""
    if "user" not in g:
        user_id = session.get("user_id")
        user = current_services().users.get(user_id) if isinstance(user_id, int) else None
        if user is not None and (user.disabled or session.get("session_version") != user.session_version):
            user = None
        if user is None and user_id is not None:
            session.clear()
        g.user = user
    return g.user


def signed_in(view: View) -> View:
    """Sends whoever is not signed in to the sign-in page, and back here afterwards."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("console.sign_in", next=_this_page()))
        return view(*args, **kwargs)

    return guarded  # type: ignore[return-value]


def _this_page() -> str:
    """This page's address, percent-encoded as a browser sends it: a path with a newline or a space (decoded by the
    server) comes back as the same page, never as a ``next`` the sign-in must refuse."""
    query = quote(request.query_string.decode("latin-1"), safe="=&+%;,/?:@!$'()*")
    return quote(request.path) + (f"?{query}" if query else "")


def operator_only(view: View) -> View:
    """Cancels and retries: a viewer is refused (403) even if they forge the form."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        user = current_user()
        if user is None:
            return redirect(url_for("console.sign_in"))
        if not may_change_orders(user.role):
            abort(403, "only operators may cancel orders or retry requests")
        return view(*args, **kwargs)

    return guarded  # type: ignore[return-value]
