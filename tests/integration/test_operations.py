"""What operators use: /healthz, /readyz, /metrics, ``bridge db upgrade`` and ``bridge doctor``."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import boto3
import requests
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from bridge.cli.doctor import Status, render_table, run_checks
from bridge.metrics import COMMERCE_CALL_OUTCOMES, FEED_POLL_RESULTS
from bridge.settings import load_settings
from bridge.storage.engine import current_revision, head_revision, make_engine, upgrade
from bridge.web.app import create_app
from bridge.web.order_cancel_hooks import HOOK_DECISIONS
from standins.procfile import CHECKOUT, process_env, procfile_command
from standins.server import BackgroundServer
from tests.seeds import INTEGRATION, REFRESH_TOKENS, amazon_order


def test_readyz_reports_missing_migrations_until_upgrade(bridge_env: dict[str, str]) -> None:
    settings = load_settings(bridge_env)
    server = BackgroundServer(create_app(settings)).start()
    try:
        assert requests.get(f"{server.url}/healthz", timeout=5).status_code == 200
        before = requests.get(f"{server.url}/readyz", timeout=5)
        assert before.status_code == 503 and "bridge db upgrade" in before.json()["migrations"]
        upgrade(make_engine(settings.database_url))
        after = requests.get(f"{server.url}/readyz", timeout=5)
        assert after.status_code == 200 and after.json()["database"] == "ok"
    finally:
        server.stop()


def test_readyz_is_not_ready_while_the_database_refuses_writes(bridge_env: dict[str, str], tmp_path) -> None:
    """A database that answers reads but cannot take a write (here: SQLite locked by another writer) cannot take a
    cancel either."""
    settings = load_settings(bridge_env)
    if not settings.database_url.startswith("sqlite"):
        return
    upgrade(make_engine(settings.database_url))
    server = BackgroundServer(create_app(settings)).start()
    locker = make_engine(settings.database_url).raw_connection()
    try:
        assert requests.get(f"{server.url}/readyz", timeout=5).status_code == 200
        locker.execute("BEGIN EXCLUSIVE")
        locked = requests.get(f"{server.url}/readyz", timeout=5)
        assert locked.status_code == 503 and locked.json()["status"] == "unavailable"
        locker.rollback()
        assert requests.get(f"{server.url}/readyz", timeout=5).status_code == 200
    finally:
        locker.close()
        server.stop()


def test_readyz_can_be_kept_for_the_monitoring(bridge_env: dict[str, str]) -> None:
    settings = load_settings({**bridge_env, "BRIDGE_READYZ_TOKEN": "ready-token-secret"})
    upgrade(make_engine(settings.database_url))
    client = create_app(settings).test_client()
    assert client.get("/readyz").status_code == 401
    assert client.get("/readyz", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/readyz", headers={"Authorization": "Bearer ready-token-secret"}).status_code == 200
    assert client.get("/healthz").status_code == 200  # the load balancer's check stays open


def test_upgrade_twice_is_harmless(bridge_env: dict[str, str]) -> None:
    engine = make_engine(load_settings(bridge_env).database_url)
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO users (name, password_hash, role, disabled, created_at) "
                                "VALUES ('kept', 'x', 'viewer', false, CURRENT_TIMESTAMP)"))  # fmt: skip
    upgrade(engine)  # a second release step on an up-to-date database changes nothing and keeps what it holds
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT name FROM users")).scalars().all() == ["kept"]
    engine.dispose()


def doctor(env: dict[str, str]) -> dict[str, object]:
    results = run_checks(env)
    return {"results": {r.name: r for r in results}, "table": render_table(results)}


def test_doctor_all_green(bridge_env: dict[str, str], commerce) -> None:
    upgrade(make_engine(load_settings(bridge_env).database_url))
    commerce.register_cancel_hooks("https://bridge.example.com")
    results = run_checks(bridge_env)
    assert all(r.status is not Status.FAIL for r in results), render_table(results)
    names = {r.name for r in results}
    assert names >= {"configuration", "webhook auth", "database", "Commerce REST", "Commerce write-back",
                     "Commerce comments", "Commerce hooks"}  # fmt: skip
    for store in ("it", "us", "de-import-off"):
        for check in ("token", "marketplace", "orders", "feeds"):
            assert next(r for r in results if r.name == f"Amazon {store} {check}").status is Status.OK
        assert next(r for r in results if r.name == f"Amazon {store} seller id").status is Status.NOT_VERIFIED
    assert "0 failed" in render_table(results)


def test_doctor_fails_a_seller_that_does_not_sell_in_the_configured_marketplace(bridge_env, commerce, amazon) -> None:
    amazon.add_seller(*REFRESH_TOKENS["SPAPI_REFRESH_TOKEN_US"], marketplaces=["A1PA6795UKMFR9", "A13V1IB3VIYZZH"])
    upgrade(make_engine(load_settings(bridge_env).database_url))
    commerce.register_cancel_hooks("https://bridge.example.com")
    checked = doctor(bridge_env)["results"]
    marketplace = checked["Amazon us marketplace"]
    assert marketplace.status is Status.FAIL
    assert "does not sell in marketplace ATVPDKIKX0DER" in marketplace.detail
    assert "marketplace_id of store 'us'" in marketplace.fix and "SPAPI_REFRESH_TOKEN_US" in marketplace.fix
    assert checked["Amazon it marketplace"].status is Status.OK


def test_doctor_checks_the_notification_queue_it_is_given(bridge_env, commerce, sqs_env) -> None:
    upgrade(make_engine(load_settings(bridge_env).database_url))
    assert doctor(bridge_env)["results"]["notification queue"].status is Status.OK  # none set: polling, said so
    sqs = boto3.client("sqs", endpoint_url=sqs_env["AWS_ENDPOINT_URL_SQS"])
    queue_url = f"{sqs_env['AWS_ENDPOINT_URL_SQS']}/123456789012/bridge-doctor"
    env = {**bridge_env, "BRIDGE_SQS_QUEUE_URL": queue_url}
    check = doctor(env)["results"]["notification queue"]
    assert check.status is Status.FAIL and "BRIDGE_SQS_QUEUE_URL" in check.fix and "sqs:ReceiveMessage" in check.fix
    sqs.create_queue(QueueName="bridge-doctor")
    found = doctor(env)["results"]["notification queue"]
    assert found.status is Status.OK and "arn:aws:sqs:" in found.detail and "bridge-doctor" in found.detail


def test_doctor_checks_the_write_back_permissions_and_the_hooks_without_writing(bridge_env, commerce) -> None:
    upgrade(make_engine(load_settings(bridge_env).database_url))
    commerce.integration = dataclasses.replace(
        INTEGRATION, resources=frozenset({"Magento_Sales::actions_view", "Magento_Sales::comment"})
    )
    checked = doctor(bridge_env)["results"]
    assert checked["Commerce write-back"].status is Status.FAIL
    assert "Magento_Sales::api_actions" in checked["Commerce write-back"].fix
    assert checked["Commerce comments"].status is Status.OK
    assert checked["Commerce hooks"].status is Status.NOT_VERIFIED  # may not read the webhooks list
    commerce.integration = INTEGRATION
    checked = doctor(bridge_env)["results"]  # a list it may read, without the bridge's hooks
    assert checked["Commerce hooks"].status is Status.FAIL and "unchecked" in checked["Commerce hooks"].detail
    assert "webhooks:generate:module" in checked["Commerce hooks"].fix
    assert all(not order["status_histories"] for order in commerce.orders.values())


def test_doctor_names_each_failure_with_a_fix_and_no_secrets(bridge_env: dict[str, str], commerce) -> None:
    commerce.accept_bearer = False
    env = {**bridge_env, "LWA_CLIENT_SECRET": "wrong-SECRET-value", "SPAPI_REFRESH_TOKEN_US": "Atzr|stale-SECRET"}
    checked = doctor(env)
    results, table = checked["results"], checked["table"]
    assert not results["database"].ok and "bridge db upgrade" in results["database"].fix
    assert not results["Commerce REST"].ok and "OAuth" in results["Commerce REST"].fix
    assert not results["Amazon us token"].ok and "LWA_CLIENT_ID" in results["Amazon us token"].fix
    assert "wrong-SECRET-value" not in table and "stale-SECRET" not in table


def test_doctor_lists_what_a_refused_commerce_token_kept_it_from_checking(bridge_env, commerce) -> None:
    """Nothing vanishes: the checks that need Commerce say they were not verified, and why."""
    upgrade(make_engine(load_settings(bridge_env).database_url))
    commerce.register_cancel_hooks("https://bridge.example.com")
    results = doctor({**bridge_env, "COMMERCE_ACCESS_TOKEN": "wrong-SECRET-token"})["results"]
    assert results["Commerce REST"].status is Status.FAIL and "COMMERCE_ACCESS_TOKEN" in results["Commerce REST"].fix
    for name in ("Commerce write-back", "Commerce comments", "Commerce hooks"):
        assert results[name].status is Status.NOT_VERIFIED, name
        assert results[name].detail == "not checked: Commerce refused the credentials", name
    unreachable = doctor({**bridge_env, "COMMERCE_BASE_URL": "http://127.0.0.1:9"})["results"]
    assert unreachable["Commerce hooks"].detail == "not checked: Commerce could not be reached"


def test_doctor_lists_what_a_refused_amazon_token_kept_it_from_checking(bridge_env, commerce) -> None:
    upgrade(make_engine(load_settings(bridge_env).database_url))
    results = doctor({**bridge_env, "SPAPI_REFRESH_TOKEN_US": "Atzr|revoked"})["results"]
    token = results["Amazon us token"]
    assert token.status is Status.FAIL and "SPAPI_REFRESH_TOKEN_US" in token.fix
    for check in ("marketplace", "orders", "feeds", "seller id"):
        assert results[f"Amazon us {check}"].status is Status.NOT_VERIFIED, check
    assert "Login with Amazon refused the refresh token in SPAPI_REFRESH_TOKEN_US" in results["Amazon us orders"].detail
    assert results["Amazon it orders"].status is Status.OK


def test_every_doctor_failure_names_the_setting_and_the_fix(bridge_env: dict[str, str]) -> None:
    """Settings that do not load: each problem gets the fix for its own setting, and every later check is listed as
    not verified instead of left out."""
    env = {name: value for name, value in bridge_env.items() if name not in ("COMMERCE_BASE_URL", "LWA_CLIENT_ID")}
    results = run_checks({**env, "BRIDGE_LOG_LEVEL": "chatty"})
    failed = {r.detail.split(":")[0]: r.fix for r in results if r.status is Status.FAIL}
    assert set(failed) == {"COMMERCE_BASE_URL", "LWA_CLIENT_ID", "BRIDGE_LOG_LEVEL"}
    for setting, fix in failed.items():
        assert fix.startswith(f"set {setting} ") and ".env" in fix, fix
    assert "as the problem says" in failed["BRIDGE_LOG_LEVEL"]
    skipped = {r.name for r in results if r.status is Status.NOT_VERIFIED}
    assert skipped == {"webhook auth", "database", "Commerce REST", "Commerce write-back", "Commerce comments",
                       "Commerce hooks", "notification queue", "Amazon stores"}  # fmt: skip
    assert all("the settings above must be fixed first" in r.detail for r in results if r.name in skipped)


def test_doctor_json_is_one_object_with_every_check_and_the_result(bridge_env: dict[str, str], commerce) -> None:
    commerce.register_cancel_hooks("https://bridge.example.com")
    env = {**os.environ, **bridge_env}
    command = [sys.executable, "-m", "bridge.cli"]
    assert subprocess.run([*command, "db", "upgrade"], env=env, capture_output=True, timeout=60).returncode == 0
    run = subprocess.run([*command, "doctor", "--json"], env=env, capture_output=True, text=True, timeout=60)
    report = json.loads(run.stdout)
    assert run.returncode == 0 and report["result"] == "passed" and report["failed"] == 0, run.stdout
    assert report["passed"] + report["not_verified"] == len(report["checks"])
    hooks = next(check for check in report["checks"] if check["name"] == "Commerce hooks")
    assert hooks["status"] == "ok" and hooks["detail"] and hooks["fix"] is None
    broken = subprocess.run(
        [*command, "doctor", "--json"], env={**env, "COMMERCE_BASE_URL": "http://127.0.0.1:9"}, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    report = json.loads(broken.stdout)
    assert broken.returncode == 1 and report["result"] == "failed"
    statuses = {check["name"]: check["status"] for check in report["checks"]}
    assert statuses["Commerce REST"] == "fail" and statuses["Commerce hooks"] == "not_verified"


def test_doctor_command_exit_codes(bridge_env: dict[str, str], commerce) -> None:
    commerce.register_cancel_hooks("https://bridge.example.com")
    env = {**os.environ, **bridge_env}
    command = [sys.executable, "-m", "bridge.cli"]
    upgrade_run = subprocess.run([*command, "db", "upgrade"], env=env, capture_output=True, text=True, timeout=60)
    assert upgrade_run.returncode == 0, upgrade_run.stderr
    run = subprocess.run([*command, "doctor"], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "FAIL" not in run.stdout
    broken = subprocess.run(
        [*command, "doctor"], env={**env, "COMMERCE_BASE_URL": "http://127.0.0.1:9"}, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert broken.returncode == 1 and "FAIL" in broken.stdout and "COMMERCE_BASE_URL" in broken.stdout


def test_doctor_piped_into_a_reader_that_reads_nothing_ends_quietly(bridge_env: dict[str, str]) -> None:
    env = {**os.environ, **bridge_env}
    piped = subprocess.run(  # noqa: S602 - the pipe is the point
        f"{sys.executable} -m bridge.cli doctor | head -n 0", shell=True, env=env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert "Traceback" not in piped.stderr and "BrokenPipe" not in piped.stderr


def _gunicorn_bind(env: dict[str, str]) -> str:
    """The address the Procfile's ``web`` line would listen on, as gunicorn itself resolves it."""
    command = procfile_command("web") + " --print-config"
    shown = subprocess.run(  # noqa: S602 - a Procfile line is a shell command
        command, shell=True, cwd=CHECKOUT, env=process_env(env), capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0, shown.stderr
    return next(line.split("=", 1)[1].strip() for line in shown.stdout.splitlines() if line.startswith("bind "))


def test_the_procfile_web_line_needs_no_port(bridge_env: dict[str, str]) -> None:
    without = {name: value for name, value in os.environ.items() if name not in ("PORT", "GUNICORN_CMD_ARGS")}
    os_env = {**without, **bridge_env}
    assert _gunicorn_bind({**os_env, "PORT": ""}) == "['0.0.0.0:8000']"
    assert _gunicorn_bind({**os_env, "PORT": "5123"}) == "['0.0.0.0:5123']"


def test_a_worker_on_a_database_it_cannot_use_says_what_to_do_and_exits(bridge_env: dict[str, str]) -> None:
    """The platform restarts it; an endless loop of failing steps would hide the cause."""
    command = [sys.executable, "-m", "bridge.cli", "worker"]
    env = {**os.environ, **bridge_env}
    unmigrated = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert unmigrated.returncode == 3 and "bridge db upgrade" in unmigrated.stderr
    unreachable = {**env, "DATABASE_URL": "postgresql://bridge:SECRET-pw@127.0.0.1:9/bridge"}
    refused = subprocess.run(command, env=unreachable, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 3 and "DATABASE_URL" in refused.stderr
    for run in (unmigrated, refused):
        assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert "SECRET-pw" not in refused.stderr


def test_metrics_say_when_the_database_did_not_answer(bridge_env: dict[str, str]) -> None:
    """Not migrated: the database gauges cannot be read, and the scrape says so instead of failing."""
    server = BackgroundServer(create_app(load_settings(bridge_env))).start()
    try:
        scrape = requests.get(f"{server.url}/metrics", timeout=5)
    finally:
        server.stop()
    assert scrape.status_code == 200
    assert "bridge_database_up 0.0" in scrape.text and "bridge_cancel_requests{" not in scrape.text


def _documented_metrics() -> dict[str, set[str]]:
    """The install guide's metrics table: each metric's name and the labels it names."""
    guide = (Path(__file__).resolve().parents[2] / "docs" / "install.md").read_text(encoding="utf-8")
    documented = {}
    for name, labels in re.findall(r"^\| `(bridge_\w+)(?:\{([a-z_,]+)\})?`", guide, re.MULTILINE):
        documented[name] = set(labels.split(",")) if labels else set()
    for name, labels in re.findall(r"`, `(bridge_\w+)(?:\{([a-z_,]+)\})?`", guide):  # a second metric in a row
        documented[name] = set(labels.split(",")) if labels else set()
    return documented


def _listed(row_start: str, after: str) -> list[str]:
    guide = (Path(__file__).resolve().parents[2] / "docs" / "install.md").read_text(encoding="utf-8")
    [row] = [line for line in guide.splitlines() if line.startswith(row_start)]
    part = row.split(after, 1)[1].split(". ", 1)[0]
    return re.findall(r"`([a-z_]+)`", part)


def test_the_guide_names_the_metrics_and_labels_the_bridge_exports(bridge, commerce, amazon) -> None:
    """Scraped from a bridge that answered a hook and called Commerce: every metric the guide names exists with the
    labels it names, and the label values the guide lists are the ones the code can give."""
    amazon_order(commerce, amazon, 1)
    bridge.hook().post({"id": "1"})
    bridge.hook().post_after(1, canceled=True)
    bridge.hook(private_key=None).post({"id": "1"})
    scrape = bridge.app.test_client().get("/metrics").get_data(as_text=True)
    exported: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(scrape):
        for sample in family.samples:
            exported.setdefault(sample.name, set()).update(set(sample.labels) - {"le"})
        if not family.samples:  # a labelled counter nothing has counted yet: its labels as declared
            declared = REGISTRY._names_to_collectors[family.name]._labelnames  # type: ignore[attr-defined]
            exported[f"{family.name}_total" if family.type == "counter" else family.name] = set(declared)
    for name, labels in _documented_metrics().items():
        assert name in exported or f"{name}_count" in exported, name
        assert exported.get(name, exported.get(f"{name}_count")) == labels, name
    assert len(_documented_metrics()) >= 9
    decisions = "| `bridge_webhook_requests_total"
    assert _listed(decisions, "Before: ") == list(HOOK_DECISIONS["before"])
    assert _listed(decisions, "After: ") == list(HOOK_DECISIONS["after"])
    assert _listed("| `bridge_commerce_calls_total", "Magento REST calls: ") == list(COMMERCE_CALL_OUTCOMES)
    assert _listed("| `bridge_feed_polls_total", "by result: ") == list(FEED_POLL_RESULTS)


def test_the_oldest_open_request_is_one_still_under_way(bridge, commerce, amazon) -> None:
    """A refused or failed request is over: it does not make the stuck-cancel alert fire for ever."""
    amazon_order(commerce, amazon, 2)
    bridge.hook().post({"id": "2"})
    bridge.hook().post_after(2, canceled=False)  # Commerce did not cancel: the request ends
    assert [r.state for r in bridge.cancel_requests()] == ["not_canceled_in_commerce"]
    assert _oldest_open_age(bridge) == 0
    amazon_order(commerce, amazon, 3)
    bridge.hook().post({"id": "3"})  # under way
    assert _oldest_open_age(bridge) > 0


def _oldest_open_age(bridge) -> float:
    scrape = bridge.app.test_client().get("/metrics").get_data(as_text=True)
    [age] = re.findall(r"^bridge_oldest_open_request_age_seconds (\S+)$", scrape, re.MULTILINE)
    return float(age)
