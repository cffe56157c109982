"""``bridge doctor``: checks settings, key, database, Commerce and LWA, and says how to fix each failure."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bridge.clients.deadline import Deadline
from bridge.composition import Bridge, build_bridge
from bridge.errors import ConfigError, UpstreamError, UpstreamRejected
from bridge.settings import load_settings
from bridge.storage.engine import current_revision, head_revision

CHECK_TIMEOUT = 10.0


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def _check_webhook_auth(bridge: Bridge) -> CheckResult:
    settings = bridge.settings
    proofs = []
    if settings.webhook_public_key is not None:
        proofs.append(f"RSA signature ({settings.webhook_public_key.key_size}-bit public key)")
    if settings.webhook_secret is not None:
        proofs.append(f"secret header {settings.webhook_secret_header}")
    if not proofs:
        return CheckResult(
            "webhook auth",
            False,
            "verification is OFF (BRIDGE_ALLOW_UNSIGNED_WEBHOOKS=1)",
            "set COMMERCE_WEBHOOK_PUBLIC_KEY_FILE to the key from Stores > Configuration > Adobe Bridge > "
            "Webhooks > Digital Signature",
        )
    return CheckResult("webhook auth", True, " + ".join(proofs))


def _check_database(bridge: Bridge) -> CheckResult:
    try:
        with bridge.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current = current_revision(bridge.engine)
    except SQLAlchemyError as exc:
        return CheckResult("database", False, f"cannot connect ({exc.__class__.__name__})", "check DATABASE_URL")
    head = head_revision()
    if current != head:
        return CheckResult("database", False, f"schema at {current}, code expects {head}", "run: bridge db upgrade")
    return CheckResult("database", True, f"{bridge.engine.dialect.name}, schema at {current}")


def _check_commerce(bridge: Bridge) -> CheckResult:
    mode = "OAuth 1.0a" if bridge.settings.commerce_auth.uses_oauth1 else "Bearer"
    try:
        bridge.commerce.check_access(Deadline(CHECK_TIMEOUT))
    except UpstreamRejected as exc:
        fix = (
            "check the integration's credentials and that it may read Sales > Orders"
            if exc.status in (401, 403)
            else "check COMMERCE_BASE_URL and COMMERCE_STORE_CODE"
        )
        if exc.status == 401 and mode == "Bearer":
            fix += "; if the store does not allow integration tokens as Bearer, also set the three OAuth variables"
        return CheckResult("Commerce REST", False, str(exc), fix)
    except UpstreamError as exc:
        return CheckResult("Commerce REST", False, str(exc), "check COMMERCE_BASE_URL and that Commerce is up")
    return CheckResult("Commerce REST", True, f"order list readable ({mode})")


def _check_lwa(bridge: Bridge) -> list[CheckResult]:
    results = []
    for store in bridge.settings.stores:
        name = f"LWA token ({store.code})"
        try:
            bridge.lwa.access_token(store.refresh_token, Deadline(CHECK_TIMEOUT))
        except UpstreamRejected as exc:
            fix = (
                f"the refresh token in {store.refresh_token_env} is not valid: authorise the app again"
                if exc.code == "invalid_grant"
                else "check LWA_CLIENT_ID and LWA_CLIENT_SECRET"
            )
            results.append(CheckResult(name, False, str(exc), fix))
        except UpstreamError as exc:
            results.append(CheckResult(name, False, str(exc), "check LWA_TOKEN_URL and the network"))
        else:
            results.append(CheckResult(name, True, f"token exchanged for seller {store.seller_id}"))
    return results


def run_checks(environ: Mapping[str, str] | None = None) -> list[CheckResult]:
    try:
        settings = load_settings(environ)
    except ConfigError as exc:
        return [CheckResult("configuration", False, problem, "fix the setting named") for problem in exc.problems]
    bridge = build_bridge(settings)
    checks: list[Callable[[Bridge], CheckResult]] = [_check_webhook_auth, _check_database, _check_commerce]
    results = [CheckResult("configuration", True, f"{len(list(settings.stores))} Amazon store(s)")]
    results += [check(bridge) for check in checks]
    results += _check_lwa(bridge)
    return results


def render_table(results: list[CheckResult]) -> str:
    width = max(len(r.name) for r in results)
    lines = []
    for result in results:
        lines.append(f"{result.name.ljust(width)}  {'ok  ' if result.ok else 'FAIL'}  {result.detail}")
        if result.fix:
            lines.append(f"{' ' * width}        fix: {result.fix}")
    return "\n".join(lines)
