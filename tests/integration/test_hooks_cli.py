"""``bridge hooks install|list|remove``: the bridge subscribes its own two hooks through Commerce's REST API, as an
operator runs it (a subprocess with the deployed environment) against the Commerce stand-in's subscribe, list and
unsubscribe endpoints; ``bridge doctor`` tells when what Commerce has is not what the bridge needs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from bridge.cli.doctor import Status, run_checks
from bridge.domain.hook_subscriptions import FALLBACK_MESSAGE, PAAS_METHOD
from bridge.settings import load_settings
from bridge.storage.engine import make_engine, upgrade

PUBLIC_URL = "https://cancel-bridge.example.com"
SECRET = "a-shared-secret-of-the-merchant"
FOREIGN = {"webhook_method": "observer.sales_order_place_before", "webhook_type": "before", "batch_name": "erp",
           "hook_name": "check_credit", "url": "https://erp.example.com/hook"}  # fmt: skip


def bridge_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridge.cli", *args], env={"PATH": os.environ["PATH"], **env},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def hooks_check(env: dict[str, str]):
    return next(result for result in run_checks(env) if result.name == "Commerce hooks")


def the_bridges(commerce) -> list[dict]:
    return [hook for hook in commerce.registered_webhooks if hook["webhook_method"] == PAAS_METHOD]


def test_install_subscribes_one_before_and_one_after_hook_and_again_changes_nothing(bridge_env, commerce):
    env = {**bridge_env, "COMMERCE_WEBHOOK_SECRET": SECRET}
    commerce.registered_webhooks = [dict(FOREIGN)]  # another extension's hook: never touched
    first = bridge_cli(env, "hooks", "install", "--public-url", PUBLIC_URL)
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("subscribed") == 2 and "setup:di:compile" in first.stdout
    before, after = sorted(the_bridges(commerce), key=lambda hook: hook["webhook_type"] != "before")
    assert (before["webhook_type"], before["url"]) == ("before", f"{PUBLIC_URL}/webhooks/commerce/order-cancel")
    assert (before["required"], before["timeout"], before["fallback_error_message"]) == (True, 3000, FALLBACK_MESSAGE)
    assert before["headers"] == [{"name": "X-Bridge-Webhook-Secret", "value": SECRET}]
    assert (after["webhook_type"], after["url"]) == ("after", f"{PUBLIC_URL}/webhooks/commerce/order-cancel-after")
    assert after["required"] is False
    subscribed = json.dumps(commerce.registered_webhooks, sort_keys=True)

    again = bridge_cli(env, "hooks", "install", "--public-url", PUBLIC_URL)
    assert again.returncode == 0 and again.stdout.count("unchanged") == 2 and "subscribed" not in again.stdout
    assert json.dumps(commerce.registered_webhooks, sort_keys=True) == subscribed

    listed = bridge_cli(env, "hooks", "list", "--public-url", PUBLIC_URL, "--json")
    assert listed.returncode == 0, listed.stdout
    shown = json.loads(listed.stdout)
    assert [hook["matches"] for hook in shown["hooks"]] == ["ok", "ok"] and shown["missing"] == []
    assert SECRET not in listed.stdout and SECRET not in first.stdout  # a header's name is shown, never its value

    moved = bridge_cli(env, "hooks", "install", "--public-url", "https://new-host.example.com")
    assert moved.stdout.count("replaced") == 2 and len(the_bridges(commerce)) == 2

    removed = bridge_cli(env, "hooks", "remove")
    assert removed.returncode == 0 and "2 hook(s)" in removed.stdout
    assert commerce.registered_webhooks == [FOREIGN]
    none_left = bridge_cli(env, "hooks", "list", "--public-url", PUBLIC_URL)  # a new store's state: no traceback
    assert none_left.returncode == 1 and "Traceback" not in none_left.stderr
    assert "no before hook: run 'bridge hooks install'" in none_left.stdout


def test_list_says_what_is_missing_or_differs(bridge_env, commerce):
    bridge_cli(bridge_env, "hooks", "install", "--public-url", PUBLIC_URL)
    commerce.registered_webhooks = [hook for hook in commerce.registered_webhooks if hook["webhook_type"] == "before"]
    listed = bridge_cli(bridge_env, "hooks", "list", "--public-url", "https://elsewhere.example.com")
    assert listed.returncode == 1
    assert "differs: url" in listed.stdout and "no after hook: run 'bridge hooks install'" in listed.stdout


def test_a_commerce_without_rest_subscription_is_told_to_use_the_xml(bridge_env, commerce):
    commerce.faults.add("POST /rest/all/V1/webhooks/subscribe", status=404)
    result = bridge_cli(bridge_env, "hooks", "install", "--public-url", PUBLIC_URL)
    assert result.returncode == 2 and result.stderr.startswith("bridge: ") and "config/webhooks.xml" in result.stderr


def test_install_wants_https_and_an_address(bridge_env):
    no_url = bridge_cli(bridge_env, "hooks", "install")
    assert no_url.returncode == 2 and "BRIDGE_PUBLIC_URL" in no_url.stderr
    plain = bridge_cli(bridge_env, "hooks", "install", "--public-url", "http://bridge.example.com")
    assert plain.returncode == 2 and "https" in plain.stderr


def test_doctor_names_the_command_when_the_hooks_differ(bridge_env, commerce):
    upgrade(make_engine(load_settings(bridge_env).database_url))
    bridge_cli(bridge_env, "hooks", "install", "--public-url", PUBLIC_URL)
    matching = next(
        r for r in run_checks({**bridge_env, "BRIDGE_PUBLIC_URL": PUBLIC_URL}) if r.name == "Commerce hooks"
    )
    assert matching.status is Status.OK, matching.detail
    moved = {**bridge_env, "BRIDGE_PUBLIC_URL": "https://moved.example.com"}
    differing = next(r for r in run_checks(moved) if r.name == "Commerce hooks")
    assert differing.status is Status.FAIL and "url" in differing.detail and differing.fix == "bridge hooks install"
    commerce.registered_webhooks = []
    missing = hooks_check(bridge_env)
    assert missing.status is Status.FAIL and "bridge hooks install" in (missing.fix or "")
