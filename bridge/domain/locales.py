"""The languages the bridge speaks to admins, operators and in audit comments."""

from __future__ import annotations

LOCALES = ("en_US", "it_IT")
DEFAULT_LOCALE = "en_US"  # where nothing says otherwise: no store, no user's choice, no browser match
