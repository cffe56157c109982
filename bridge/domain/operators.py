"""Who may use the console and the API, and what each role may do."""

from __future__ import annotations

import re
from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"  # sees stores, orders, requests and what needs attention
    OPERATOR = "operator"  # also cancels orders and retries requests


NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")  # user and token names: safe in logs and URLs
MIN_PASSWORD_LENGTH = 12


def may_change_orders(role: str) -> bool:
    """Cancel orders and retry requests: operators only."""
    return role == Role.OPERATOR


def name_problem(name: str) -> str | None:
    if NAME_PATTERN.fullmatch(name) is None:
        return "use 1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit"
    return None


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password must have at least {MIN_PASSWORD_LENGTH} characters"
    return None
