"""``bridge doctor``: checks what can be checked without changing anything, and says plainly what it could not.

Settings and webhook keys; the database and its schema; Commerce (reachable, orders readable, the write-back's
permissions, the two hooks registered); the notification queue, when one is set; and per Amazon store the token
exchange, the marketplace, and the app's access to orders and feeds. Each failure names the setting (or step) to fix
and how; a check that could not run because an earlier one failed is listed as not verified, with the reason. The
exit status is 1 when anything failed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bridge.clients.sqs_queue import QueueUnreachable, SqsQueue
from bridge.composition import Clients, build_clients
from bridge.deadline import Deadline
from bridge.domain.feed_builder import FEED_TYPE
from bridge.domain.hook_subscriptions import CANCEL_METHODS, HOOK_PATHS, differences, wanted
from bridge.domain.stores import Store
from bridge.errors import ConfigError, UpstreamError, UpstreamRejected
from bridge.settings import Settings, load_settings
from bridge.storage.engine import DatabaseUnusable, make_engine, open_existing

CHECK_TIMEOUT = 10.0
NEEDS_DATABASE = "needs the bridge's database (Amazon's quotas are counted there): fix the database first"
# The write permissions, probed with empty bodies: check name, method, path, ACL resource, what it allows.
WRITE_BACK_PROBES = (
    ("Commerce write-back", "POST", "/orders", "Magento_Sales::api_actions", "set orders Complete"),
    ("Commerce comments", "POST", "/orders/0/comments", "Magento_Sales::comment", "add audit comments"),
)
# What runs only once Commerce REST passed, and what runs only once the settings load.
COMMERCE_DEPENDENTS = (*(probe[0] for probe in WRITE_BACK_PROBES), "Commerce hooks")
SETTINGS_DEPENDENTS = (
    "webhook auth",
    "database",
    "Commerce REST",
    *COMMERCE_DEPENDENTS,
    "notification queue",
    "Amazon stores",
)


class Status(StrEnum):
    OK = "ok"
    FAIL = "FAIL"
    NOT_VERIFIED = "not verified"


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: Status
    detail: str
    fix: str = ""

    @property
    def ok(self) -> bool:
        """Passed, or could not be verified (which the table says): only a failure fails the doctor."""
        return self.status is not Status.FAIL


@dataclass(frozen=True)
class Setup:
    """What the doctor examines: the settings, the database, and the clients built from them."""

    settings: Settings
    engine: Engine
    clients: Clients


def ok(name: str, detail: str) -> CheckResult:
    return CheckResult(name, Status.OK, detail)


def fail(name: str, detail: str, fix: str) -> CheckResult:
    return CheckResult(name, Status.FAIL, detail, fix)


def not_verified(name: str, detail: str) -> CheckResult:
    return CheckResult(name, Status.NOT_VERIFIED, detail)


def not_checked(names: Iterable[str], why: str) -> list[CheckResult]:
    """The checks an earlier failure kept from running: listed all the same, so that none looks passed by silence."""
    return [not_verified(name, f"not checked: {why}") for name in names]


def _deadline() -> Deadline:
    return Deadline(CHECK_TIMEOUT)


def _check_webhook_auth(setup: Setup) -> list[CheckResult]:
    settings = setup.settings
    proofs = []
    if settings.webhook_public_keys:
        sizes = ", ".join(f"{key.key_size}-bit" for key in settings.webhook_public_keys)
        proofs.append(f"RSA signature ({len(settings.webhook_public_keys)} public key(s): {sizes})")
    if settings.webhook_secrets:
        proofs.append(f"secret header {settings.webhook_secret_header} ({len(settings.webhook_secrets)} secret(s))")
    if not proofs:
        return [
            fail(
                "webhook auth",
                "verification is OFF (BRIDGE_ALLOW_UNSIGNED_WEBHOOKS=1)",
                "set COMMERCE_WEBHOOK_PUBLIC_KEY_FILE to the key from Stores > Configuration > Adobe Services > "
                "Webhooks > Digital Signature",
            )
        ]
    return [ok("webhook auth", " + ".join(proofs))]


def _check_database(setup: Setup) -> list[CheckResult]:
    try:
        open_existing(setup.settings.database_url).dispose()
    except DatabaseUnusable as exc:
        return [fail("database", str(exc), "set DATABASE_URL to the bridge's database, then run: bridge db upgrade")]
    return [ok("database", f"{setup.engine.dialect.name}, schema up to date")]


def _check_notification_queue(setup: Setup) -> list[CheckResult]:
    """The queue Amazon's notifications arrive in, when one is set: the worker must be able to read it."""
    queue_url = setup.settings.sqs_queue_url
    if not queue_url:
        return [ok("notification queue", "off (BRIDGE_SQS_QUEUE_URL unset): Amazon's changes are polled")]
    try:
        arn = SqsQueue(queue_url).arn()
    except QueueUnreachable as exc:
        fix = (
            "check BRIDGE_SQS_QUEUE_URL and the AWS credentials the bridge runs with (environment, profile or role):"
            " they need sqs:GetQueueAttributes, sqs:ReceiveMessage and sqs:DeleteMessage on the queue"
        )
        return [fail("notification queue", str(exc), fix)]
    return [ok("notification queue", f"{arn} answers; bridge notifications status shows Amazon's subscriptions")]


def _check_commerce(setup: Setup) -> list[CheckResult]:
    mode = "OAuth 1.0a" if setup.settings.commerce_auth.uses_oauth1 else "Bearer"
    try:
        setup.clients.commerce.check_access(_deadline())
    except UpstreamRejected as exc:
        why, fix = _commerce_refusal(exc.status, mode)
        return [fail("Commerce REST", str(exc), fix), *not_checked(COMMERCE_DEPENDENTS, why)]
    except UpstreamError as exc:
        fix = "set COMMERCE_BASE_URL to the store's address (e.g. https://shop.example.com) and check Commerce is up"
        why = "Commerce could not be reached"
        return [fail("Commerce REST", str(exc), fix), *not_checked(COMMERCE_DEPENDENTS, why)]
    return [ok("Commerce REST", f"orders readable ({mode})"), *_check_write_back(setup), _check_hooks(setup)]


def _commerce_refusal(status: int | None, mode: str) -> tuple[str, str]:
    """Why Commerce refused the order read, said for the checks it stops, and the fix."""
    integration = "in System > Extensions > Integrations"
    if status == 401:
        fix = f"set COMMERCE_ACCESS_TOKEN to the integration's access token ({integration}: Activate or Reauthorize)"
        if mode == "Bearer":
            fix += "; if the store does not allow integration tokens as Bearer, also set the three OAuth variables"
        else:
            fix += ", with COMMERCE_CONSUMER_KEY, COMMERCE_CONSUMER_SECRET and COMMERCE_ACCESS_TOKEN_SECRET from it"
        return "Commerce refused the credentials", fix
    if status == 403:
        return "Commerce refused the integration the order read", (
            f"grant Sales > Operations > Orders > Actions > View (Magento_Sales::actions_view) to the integration "
            f"{integration}"
        )
    return f"Commerce REST answered HTTP {status}", (
        "set COMMERCE_BASE_URL to the store's address without /rest (e.g. https://shop.example.com), and "
        "COMMERCE_STORE_CODE to one of its store view codes, or unset it"
    )


def _check_write_back(setup: Setup) -> list[CheckResult]:
    """Probed with empty bodies, which Commerce refuses (ACL first, then validation): nothing is written."""
    results = []
    for name, method, path, resource, purpose in WRITE_BACK_PROBES:
        try:
            allowed = setup.clients.commerce.may(method, path, _deadline())
        except UpstreamError as exc:
            results.append(not_verified(name, f"could not probe {method} /V1{path}: {exc}"))
            continue
        if allowed:
            results.append(ok(name, f"the integration may {purpose} ({resource})"))
        else:
            fix = f"grant {resource} to the integration in System > Extensions > Integrations, then Reauthorize it"
            results.append(fail(name, f"the integration may not {purpose}", fix))
    return results


def _check_hooks(setup: Setup) -> CheckResult:
    """Both hooks point at the bridge; with ``BRIDGE_PUBLIC_URL`` set, they are also exactly what ``bridge hooks
    install`` subscribes (address, budget, secret header)."""
    name = "Commerce hooks"
    try:
        hooks = setup.clients.commerce.registered_webhooks(_deadline())
    except UpstreamRejected as exc:
        why = "the integration lacks Magento_AdobeCommerceWebhooks::webhooks_list" if exc.status == 401 else (
            "Commerce has no webhooks list (Adobe Commerce Webhooks before 1.5)")  # fmt: skip
        return not_verified(name, f"cannot read Commerce's webhooks ({why}): check them in the admin")
    except UpstreamError as exc:
        return not_verified(name, f"cannot read Commerce's webhooks: {exc}")
    found = {
        kind: [hook for hook in hooks if hook.get("webhook_method") in CANCEL_METHODS
               and hook.get("webhook_type") == kind and str(hook.get("url", "")).endswith(path)]
        for kind, path in HOOK_PATHS.items()
    }  # fmt: skip
    missing = [kind for kind, matches in found.items() if not matches]
    if missing:
        return fail(
            name,
            f"no {' or '.join(missing)} hook on OrderManagementInterface::cancel points at the bridge"
            + (": Commerce cancels Amazon orders unchecked" if "before" in missing else ""),
            "bridge hooks install --public-url URL (Adobe Commerce Webhooks 1.13 and later, and Adobe Commerce as a "
            "Cloud Service); older versions: merge config/webhooks.xml, then bin/magento webhooks:generate:module, "
            "module:enable Magento_AdobeCommerceWebhookPlugins, setup:upgrade, setup:di:compile, cache:clean config",
        )
    settings = setup.settings
    if settings.public_url:
        method = str(found["before"][0].get("webhook_method"))
        needed = wanted(settings.public_url, method, settings.webhook_budget_ms, settings.hook_secret_header)
        gaps = {subscription.kind: differences(subscription, found[subscription.kind][0]) for subscription in needed}
        if any(gaps.values()):
            detail = "; ".join(f"{kind}: {', '.join(fields)}" for kind, fields in gaps.items() if fields)
            return fail(name, f"the hooks differ from what the bridge needs ({detail})", "bridge hooks install")
    urls = ", ".join(str(found[kind][0]["url"]) for kind in HOOK_PATHS)
    return ok(name, f"before and after hooks registered ({urls})")


def _check_store(setup: Setup, store: Store) -> list[CheckResult]:
    name = f"Amazon {store.code}"
    needs_token = (f"{name} marketplace", f"{name} orders", f"{name} feeds")
    seller_id = not_verified(
        f"{name} seller id",
        f"seller_id {store.seller_id!r} cannot be checked through the API; it must be the Merchant Token of "
        "Seller Central > Settings > Account Info (a wrong one makes Amazon refuse every cancel feed)",
    )
    try:
        setup.clients.lwa.access_token(store.refresh_token, _deadline())
    except UpstreamRejected as exc:
        if exc.code == "invalid_grant":
            why = f"Login with Amazon refused the refresh token in {store.refresh_token_env}"
            fix = f"authorise the app again in Seller Central; set the new refresh token in {store.refresh_token_env}"
        else:
            why = "Login with Amazon refused the app's credentials"
            fix = "set LWA_CLIENT_ID and LWA_CLIENT_SECRET to the app's LWA credentials (Seller Central > Develop Apps)"
        return [fail(f"{name} token", str(exc), fix), *not_checked(needs_token, why), seller_id]
    except UpstreamError as exc:
        fix = "check that LWA_TOKEN_URL (unset: Amazon's) is reachable from this host"
        why = "Login with Amazon could not be reached"
        return [fail(f"{name} token", str(exc), fix), *not_checked(needs_token, why), seller_id]
    results = [ok(f"{name} token", f"refresh token in {store.refresh_token_env} exchanged")]
    results.append(_check_marketplace(setup, store, name))
    role = (
        "give the app the Inventory and Order Tracking role (Solution Provider Portal, or Seller Central > Develop "
        f"Apps), then authorise it again and set the new refresh token in {store.refresh_token_env}"
    )
    results.append(_probe(f"{name} orders", lambda: setup.clients.orders_api.probe_search(store, _deadline()),
                          "orders readable (searchOrders)", role, store))  # fmt: skip
    results.append(_probe(f"{name} feeds", lambda: setup.clients.feeds_api.probe_list(store, FEED_TYPE, _deadline()),
                          "Feeds API usable (getFeeds)", role, store))  # fmt: skip
    results.append(seller_id)
    return results


def _region_fix(store: Store) -> str:
    return (
        f"correct region ({store.region!r}) and marketplace_id ({store.marketplace_id!r}) of store {store.code!r} in "
        "the stores file (BRIDGE_STORES_FILE)"
    )


def _check_marketplace(setup: Setup, store: Store, name: str) -> CheckResult:
    check = f"{name} marketplace"
    try:
        participations = setup.clients.sellers_api.participations(store, _deadline())
    except SQLAlchemyError:
        return not_verified(check, NEEDS_DATABASE)
    except UpstreamRejected as exc:
        if exc.status == 403:
            return not_verified(check, "the app's roles do not allow the Sellers API (getMarketplaceParticipations)")
        return fail(check, str(exc), _region_fix(store))
    except UpstreamError as exc:
        return not_verified(check, f"cannot ask Amazon now: {exc}")
    selling = {p.marketplace_id: p for p in participations if p.participating}
    if store.marketplace_id not in selling:
        where = ", ".join(sorted(selling)) or "none"
        return fail(
            check,
            f"the seller of {store.refresh_token_env} does not sell in marketplace {store.marketplace_id} "
            f"(sells in: {where})",
            f"correct marketplace_id of store {store.code!r} in the stores file, or the refresh token in "
            f"{store.refresh_token_env}",
        )
    return ok(check, f"sells in {store.marketplace_id} ({selling[store.marketplace_id].marketplace_name})")


def _probe(name: str, call: Callable[[], None], done: str, role_fix: str, store: Store) -> CheckResult:
    try:
        call()
    except SQLAlchemyError:
        return not_verified(name, NEEDS_DATABASE)
    except UpstreamRejected as exc:
        return fail(name, str(exc), role_fix if exc.status == 403 else _region_fix(store))
    except UpstreamError as exc:
        return not_verified(name, f"cannot ask Amazon now: {exc}")
    return ok(name, done)


def run_checks(environ: Mapping[str, str] | None = None) -> list[CheckResult]:
    try:
        settings = load_settings(environ)
    except ConfigError as exc:
        failures = [fail("configuration", problem, _configuration_fix(problem)) for problem in exc.problems]
        return [*failures, *not_checked(SETTINGS_DEPENDENTS, "the settings above must be fixed first")]
    engine = make_engine(settings.database_url)
    setup = Setup(settings, engine, build_clients(settings, engine))
    try:
        results = [ok("configuration", f"{len(list(settings.stores))} Amazon store(s)")]
        for check in (_check_webhook_auth, _check_database, _check_commerce, _check_notification_queue):
            results += check(setup)
        for store in settings.stores:
            results += _check_store(setup, store)
        return results
    finally:
        setup.engine.dispose()


def _configuration_fix(problem: str) -> str:
    """Where to change what one problem of the settings names: each problem starts with its setting."""
    setting, _, what = problem.partition(": ")
    if setting.startswith("BRIDGE_STORES_FILE"):
        return (
            "edit that file as said (config/stores.example.toml shows every field of a [[stores]] table), or set "
            "BRIDGE_STORES_FILE to the right file"
        )
    how = "" if what.startswith("not set") else " as the problem says"
    return f"set {setting}{how} in the environment, or in .env in the working directory (.env.example shows each one)"


def render_json(results: list[CheckResult]) -> str:
    """One JSON object for tools: every check (name, status, detail, fix) and the overall result."""
    words = {Status.OK: "ok", Status.FAIL: "fail", Status.NOT_VERIFIED: "not_verified"}
    report = {
        "result": "passed" if all(r.ok for r in results) else "failed",
        "passed": sum(r.status is Status.OK for r in results),
        "failed": sum(r.status is Status.FAIL for r in results),
        "not_verified": sum(r.status is Status.NOT_VERIFIED for r in results),
        "checks": [
            {"name": r.name, "status": words[r.status], "detail": r.detail, "fix": r.fix or None} for r in results
        ],
    }
    return json.dumps(report, indent=2, ensure_ascii=False)


def render_table(results: list[CheckResult]) -> str:
    width = max(len(r.name) for r in results)
    status_width = max(len(status.value) for status in Status)
    lines = []
    for result in results:
        lines.append(f"{result.name.ljust(width)}  {result.status.value.ljust(status_width)}  {result.detail}")
        if result.fix:
            lines.append(f"{' ' * (width + status_width + 4)}fix: {result.fix}")
    passed = sum(r.status is Status.OK for r in results)
    unverified = sum(r.status is Status.NOT_VERIFIED for r in results)
    failed = sum(r.status is Status.FAIL for r in results)
    lines.append(f"\n{passed} passed, {failed} failed, {unverified} not verified")
    return "\n".join(lines)
