"""What operators use: /healthz, /readyz, ``bridge db upgrade`` and ``bridge doctor``."""

from __future__ import annotations

import subprocess
import sys

import requests

from bridge.cli.doctor import render_table, run_checks
from bridge.settings import load_settings
from bridge.storage.engine import make_engine, upgrade
from bridge.web.app import create_app
from standins.server import BackgroundServer


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


def test_upgrade_twice_is_harmless(bridge_env: dict[str, str]) -> None:
    engine = make_engine(load_settings(bridge_env).database_url)
    upgrade(engine)
    upgrade(engine)
    engine.dispose()


def test_doctor_all_green(bridge_env: dict[str, str]) -> None:
    upgrade(make_engine(load_settings(bridge_env).database_url))
    results = run_checks(bridge_env)
    assert all(r.ok for r in results), render_table(results)
    assert {r.name for r in results} >= {"configuration", "webhook auth", "database", "Commerce REST"}
    assert sum(r.name.startswith("LWA token") for r in results) == 3


def test_doctor_names_each_failure_with_a_fix_and_no_secrets(bridge_env: dict[str, str], commerce) -> None:
    commerce.accept_bearer = False
    env = {**bridge_env, "LWA_CLIENT_SECRET": "wrong-SECRET-value", "SPAPI_REFRESH_TOKEN_US": "Atzr|stale-SECRET"}
    results = {r.name: r for r in run_checks(env)}
    table = render_table(list(results.values()))
    assert not results["database"].ok and "bridge db upgrade" in results["database"].fix
    assert not results["Commerce REST"].ok and "OAuth" in results["Commerce REST"].fix
    assert not results["LWA token (us)"].ok and "LWA_CLIENT_ID" in results["LWA token (us)"].fix
    assert "wrong-SECRET-value" not in table and "stale-SECRET" not in table


def test_doctor_command_exit_codes(bridge_env: dict[str, str]) -> None:
    import os

    env = {**os.environ, **bridge_env}
    command = [sys.executable, "-m", "bridge.cli"]
    upgrade_run = subprocess.run([*command, "db", "upgrade"], env=env, capture_output=True, text=True, timeout=60)
    assert upgrade_run.returncode == 0, upgrade_run.stderr
    doctor = subprocess.run([*command, "doctor"], env=env, capture_output=True, text=True, timeout=60)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "FAIL" not in doctor.stdout
    broken = subprocess.run(
        [*command, "doctor"], env={**env, "COMMERCE_BASE_URL": "http://127.0.0.1:9"}, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert broken.returncode == 1 and "FAIL" in broken.stdout and "COMMERCE_BASE_URL" in broken.stdout
