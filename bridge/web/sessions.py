"""Console sessions: who is signed in, and what they may do.

Flask's signed cookie session (itsdangerous, keyed by ``BRIDGE_SECRET_KEY`` or a key kept in the instance folder)
holds only the user's id. The cookie is ``HttpOnly`` and ``SameSite=Lax``, and ``Secure`` whenever the request
came over TLS (directly, or through a proxy gunicorn trusts). Every request loads the account again, so a disabled
account is signed out at its next click.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

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


def sign_out() -> None:
    session.clear()


def current_user() -> User | None:
    """The signed-in account, loaded once per request; None (and the session ended) if it is gone or disabled."""
    if "user" not in g:
        user_id = session.get("user_id")
        user = current_services().users.get(user_id) if isinstance(user_id, int) else None
        if user is not None and user.disabled:
            session.clear()
            user = None
        g.user = user
    return g.user


def signed_in(view: View) -> View:
    """Sends whoever is not signed in to the sign-in page, and back here afterwards."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("console.sign_in", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return guarded  # type: ignore[return-value]


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
