"""The console's language: the signed-in user's choice, else the browser's (en_US or it_IT), with Flask-Babel.

The catalogs live in ``bridge/web/translations``; ``make translations`` extracts and compiles them.
"""

from __future__ import annotations

from flask import Flask, request
from flask_babel import Babel

from bridge.domain.locales import DEFAULT_LOCALE, LOCALES
from bridge.web.sessions import current_user


def console_locale() -> str:
    user = current_user() if request else None
    if user is not None and user.locale in LOCALES:
        return user.locale
    by_language = {locale.split("_")[0]: locale for locale in LOCALES}
    offered = [tag for locale in LOCALES for tag in (locale.replace("_", "-"), locale.split("_")[0])]
    best = request.accept_languages.best_match(offered, default=DEFAULT_LOCALE.split("_")[0])
    return by_language.get(best.split("-")[0], DEFAULT_LOCALE)


def init_i18n(app: Flask) -> None:
    Babel(app, locale_selector=console_locale, default_locale=DEFAULT_LOCALE, default_timezone="UTC")
