"""The two hooks the bridge needs on Commerce's cancel, as subscriptions, and how what Commerce has compares.

Commerce subscribes hooks over REST (module ``Magento_AdobeCommerceWebhooksSubscriber``: on PaaS since Adobe Commerce
Webhooks 1.13.0; the only way on Adobe Commerce as a Cloud Service, which has no ``webhooks.xml``), with the fields
of ``config/webhooks.xml`` in snake_case. The ``before`` hook is required (a bridge that does not answer blocks the
cancel with the fallback message, never lets it through unchecked) and times out a little after the bridge's own
budget, so the bridge always answers first; the ``after`` hook is not required (the cancel is done by then, and the
worker reads the order back where that call is lost).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

PAAS_METHOD = "plugin.magento.sales.api.order_management.cancel"  # Adobe Commerce on premises and on Cloud (PaaS)
SAAS_METHOD = "plugin.sales.api.order_management.cancel"  # Adobe Commerce as a Cloud Service
CANCEL_METHODS = (PAAS_METHOD, SAAS_METHOD)
HOOK_PATHS = {"before": "/webhooks/commerce/order-cancel", "after": "/webhooks/commerce/order-cancel-after"}
# (batch, hook) names by hook type: English letters, digits and _ only, as Commerce requires; config/webhooks.xml
# uses the same, so a store that moves from the file to REST keeps one pair of hooks.
NAMES = {"before": ("amazon_cancel_bridge", "amazon_order_cancel"), "after": ("amazon_cancel_bridge_after",
                                                                           "amazon_order_canceled")}  # fmt: skip
FALLBACK_MESSAGE = "The Amazon cancel bridge did not answer, so the order was not canceled. Try again in a few minutes."
TIMEOUT_MARGIN_MS = 500  # Commerce waits this much longer than the bridge's budget: the bridge answers first
# What is compared between a wanted subscription and Commerce's; a header's value is compared, never shown.
COMPARED = ("url", "required", "timeout", "fallback_error_message", "headers")


@dataclass(frozen=True)
class Subscription:
    kind: str  # "before" or "after"
    fields: Mapping[str, Any]  # the body's "webhook" object

    @property
    def key(self) -> tuple[str, str, str, str]:
        return key_of(self.fields)


def key_of(hook: Mapping[str, Any]) -> tuple[str, str, str, str]:
    """What names a subscription for Commerce: the method, the type, the batch and the hook."""
    return (str(hook.get("webhook_method", "")), str(hook.get("webhook_type", "")), str(hook.get("batch_name", "")),
            str(hook.get("hook_name", "")))  # fmt: skip


def wanted(
    public_url: str, method: str, budget_ms: int, secret_header: tuple[str, str] | None = None
) -> list[Subscription]:
    """The bridge's two subscriptions, for a bridge reachable at ``public_url``."""
    base = public_url.rstrip("/")
    headers = [{"name": secret_header[0], "value": secret_header[1]}] if secret_header else []
    subscriptions = []
    for kind, path in HOOK_PATHS.items():
        batch, hook = NAMES[kind]
        fields: dict[str, Any] = {
            "webhook_method": method, "webhook_type": kind, "batch_name": batch, "hook_name": hook,
            "url": f"{base}{path}", "method": "POST", "required": kind == "before",
            "timeout": budget_ms + TIMEOUT_MARGIN_MS, "soft_timeout": budget_ms // 2, "headers": headers,
        }  # fmt: skip
        if kind == "before":
            fields["fallback_error_message"] = FALLBACK_MESSAGE
        subscriptions.append(Subscription(kind, fields))
    return subscriptions


def differences(subscription: Subscription, existing: Mapping[str, Any]) -> list[str]:
    """The fields in which Commerce's subscription differs from the wanted one (none: it matches)."""
    return [name for name in COMPARED if name in subscription.fields and _normal(name, existing.get(name)) !=
            _normal(name, subscription.fields[name])]  # fmt: skip


def _normal(name: str, value: Any) -> Any:
    """Commerce may answer numbers and booleans as strings, and headers in any order."""
    if name == "headers":
        return sorted((str(h.get("name", "")).lower(), str(h.get("value", ""))) for h in value or [])
    if name == "required":
        return str(value).lower() in ("1", "true")
    if name == "timeout":
        return int(value) if str(value).isdigit() else value
    return value


def the_bridges(hooks: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Commerce's subscriptions that are the bridge's: its batch and hook names on a cancel method."""
    names = {(kind, batch, hook) for kind, (batch, hook) in NAMES.items()}
    return [
        hook for hook in hooks
        if hook.get("webhook_method") in CANCEL_METHODS
        and (hook.get("webhook_type"), hook.get("batch_name"), hook.get("hook_name")) in names
    ]  # fmt: skip
