"""``bridge hooks install|list|remove``: the bridge's two hooks on Commerce's cancel, through Commerce's REST API.

The bridge knows its own address, the header it expects and the budget it answers within, so it subscribes itself
(``bridge.domain.hook_subscriptions`` says what it asks for). ``install`` run again changes nothing; a subscription
that differs (another address, budget or secret) is replaced. ``remove`` unsubscribes exactly the bridge's two.
Commerce versions without the REST endpoints (Adobe Commerce Webhooks before 1.13.0 on PaaS) keep using
``config/webhooks.xml``. Header values (the shared secret) are never printed.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from bridge.cli.output import as_json, table
from bridge.clients.commerce import CommerceClient
from bridge.deadline import Deadline
from bridge.domain.hook_subscriptions import (
    PAAS_METHOD,
    SAAS_METHOD,
    Subscription,
    differences,
    key_of,
    the_bridges,
    wanted,
)
from bridge.errors import UpstreamError, UpstreamRejected, UsageError
from bridge.settings import Settings

CALL_SECONDS = 15.0
REDEPLOY = (
    "on PaaS, a hook on a plugin needs its plugin classes generated once after its first subscription: "
    "bin/magento webhooks:generate:module && bin/magento setup:upgrade && bin/magento setup:di:compile && "
    "bin/magento cache:clean config (on cloud infrastructure: redeploy); see docs/install.md, step 16"
)


def _deadline() -> Deadline:
    return Deadline(CALL_SECONDS)


def _method(commerce: CommerceClient, edition: str) -> str:
    """PaaS and Adobe Commerce as a Cloud Service name the cancel method differently; ``auto`` asks Commerce (only
    the Cloud Service has ``GET /V1/webhooks/supportedList``)."""
    if edition == "paas":
        return PAAS_METHOD
    if edition == "saas":
        return SAAS_METHOD
    return PAAS_METHOD if commerce.supported_webhooks(_deadline()) is None else SAAS_METHOD


def _wanted(settings: Settings, commerce: CommerceClient, args: argparse.Namespace) -> list[Subscription]:
    public_url = args.public_url or settings.public_url
    if not public_url:
        raise UsageError("say where Commerce reaches the bridge: --public-url URL, or BRIDGE_PUBLIC_URL")
    if not public_url.startswith("https://") and not args.allow_http:
        raise UsageError(f"{public_url}: Commerce should reach the bridge over https (--allow-http for a test store)")
    return wanted(public_url, _method(commerce, args.edition), settings.webhook_budget_ms, settings.hook_secret_header)


def _commerce_failed(exc: UpstreamError, what: str) -> UsageError:
    if isinstance(exc, UpstreamRejected) and exc.status == 404:
        return UsageError(
            f"Commerce cannot {what} over REST (Adobe Commerce Webhooks before 1.13.0): install config/webhooks.xml "
            "instead (docs/install.md)"
        )
    if isinstance(exc, UpstreamRejected) and exc.status == 401:
        return UsageError(
            f"Commerce refused to {what}: give the integration the Adobe Commerce Webhooks resources "
            "(Magento_AdobeCommerceWebhooks::webhooks_list, and the subscribe permission)"
        )
    return UsageError(f"Commerce could not {what}: {exc}")


def hooks_install(settings: Settings, commerce: CommerceClient, args: argparse.Namespace) -> int:
    try:
        subscriptions = _wanted(settings, commerce, args)
        existing = commerce.registered_webhooks(_deadline())
        outcomes = []
        for subscription in subscriptions:
            same = [hook for hook in existing if key_of(hook) == subscription.key]
            if same and not differences(subscription, same[0]):
                outcomes.append((subscription.kind, "unchanged", subscription.fields["url"]))
                continue
            if same:  # replaced, not added beside: Commerce would call both
                commerce.unsubscribe_webhook(same[0], _deadline())
            commerce.subscribe_webhook(subscription.fields, _deadline())
            outcomes.append((subscription.kind, "replaced" if same else "subscribed", subscription.fields["url"]))
    except UpstreamError as exc:
        raise _commerce_failed(exc, "subscribe the hooks") from None
    print(table(("hook", "outcome", "url"), outcomes))
    if any(outcome != "unchanged" for _, outcome, _ in outcomes):
        print(REDEPLOY)
    return 0


def hooks_list(settings: Settings, commerce: CommerceClient, args: argparse.Namespace) -> int:
    """What Commerce has of the bridge's hooks, and, where the bridge's address is known, whether it matches."""
    try:
        mine = the_bridges(commerce.registered_webhooks(_deadline()))
        subscriptions = _wanted(settings, commerce, args) if (args.public_url or settings.public_url) else []
    except UpstreamError as exc:
        raise _commerce_failed(exc, "list its hooks") from None
    by_key = {subscription.key: subscription for subscription in subscriptions}
    rows = []
    for hook in mine:
        subscription = by_key.get(key_of(hook))
        gaps = differences(subscription, hook) if subscription else []
        verdict = "unknown (no public URL)" if not subscriptions else ("differs: " + ", ".join(gaps) if gaps else "ok")
        rows.append({**_shown(hook), "matches": verdict})
    missing = sorted({s.kind for s in subscriptions} - {str(hook.get("webhook_type")) for hook in mine})
    if args.json:
        print(as_json({"hooks": rows, "missing": missing}))
    else:
        columns = ("webhook_type", "webhook_method", "url", "required", "timeout", "matches")
        print(table(columns, [tuple(str(row.get(column, "")) for column in columns) for row in rows]))
        for kind in missing:
            print(f"no {kind} hook: run 'bridge hooks install'")
    return 1 if missing or any(row["matches"] not in ("ok", "unknown (no public URL)") for row in rows) else 0


def hooks_remove(settings: Settings, commerce: CommerceClient, args: argparse.Namespace) -> int:
    try:
        mine = the_bridges(commerce.registered_webhooks(_deadline()))
        for hook in mine:
            commerce.unsubscribe_webhook(hook, _deadline())
    except UpstreamError as exc:
        raise _commerce_failed(exc, "unsubscribe the hooks") from None
    print(f"{len(mine)} hook(s) of the bridge unsubscribed; Commerce no longer asks the bridge before a cancel")
    return 0


def _shown(hook: Mapping[str, Any]) -> dict[str, Any]:
    """A subscription as printed: every header's name, never its value."""
    shown = {key: value for key, value in hook.items() if key != "headers"}
    shown["headers"] = [str(header.get("name", "")) for header in hook.get("headers") or [] if isinstance(header, dict)]
    return shown
