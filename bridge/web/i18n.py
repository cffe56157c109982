"""The console's language: the signed-in user's choice, else the browser's (en_US or it_IT), with Flask-Babel.

The catalogs live in ``bridge/web/translations``; ``make translations`` extracts and compiles them.
"""

from __future__ import annotations

from flask import Flask, request
from flask_babel import Babel

from bridge.domain.operators import CONSOLE_LOCALES
from bridge.web.sessions import current_user

DEFAULT_LOCALE = "en_US"


def console_locale() -> str:
    user = current_user() if request else None
    if user is not None and user.locale in CONSOLE_LOCALES:
        return user.locale
    best = request.accept_languages.best_match(["en-US", "en", "it-IT", "it"], default="en")
    return "it_IT" if best.startswith("it") else DEFAULT_LOCALE


def init_i18n(app: Flask) -> None:
    Babel(app, locale_selector=console_locale, default_locale=DEFAULT_LOCALE, default_timezone="UTC")
