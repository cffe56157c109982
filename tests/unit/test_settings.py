"""Start-up configuration: every problem listed at once, secrets never echoed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.errors import ConfigError
from bridge.settings import home_of, load_settings, normalize_database_url
from bridge.stores_file import load_stores
from tests.seeds import STORES_TOML


@pytest.fixture
def valid_env(stores_file: Path, public_key_pem: str, tmp_path: Path) -> dict[str, str]:
    return {
        "COMMERCE_BASE_URL": "https://shop.example.com",
        "COMMERCE_ACCESS_TOKEN": "tok-SECRET-1",
        "COMMERCE_WEBHOOK_PUBLIC_KEY": public_key_pem,
        "LWA_CLIENT_ID": "amzn1.application-oa2-client.x",
        "LWA_CLIENT_SECRET": "lwa-SECRET-2",
        "BRIDGE_STORES_FILE": str(stores_file),
        "BRIDGE_INSTANCE_PATH": str(tmp_path / "instance"),
        "SPAPI_REFRESH_TOKEN_IT": "Atzr|SECRET-3",
        "SPAPI_REFRESH_TOKEN_US": "Atzr|SECRET-4",
        "SPAPI_REFRESH_TOKEN_DE": "Atzr|SECRET-5",
    }


def test_valid_settings_load(valid_env: dict[str, str], tmp_path: Path) -> None:
    settings = load_settings(valid_env)
    assert settings.database_url == f"sqlite:///{tmp_path / 'instance' / 'bridge.sqlite'}"
    assert not settings.commerce_auth.uses_oauth1
    assert settings.webhook_budget_ms == 2500
    store = settings.stores.for_commerce_store(1)
    assert store is not None and store.code == "it" and store.refresh_token == "Atzr|SECRET-3"
    assert "SECRET" not in repr(settings)


def test_every_problem_is_listed_at_once_without_secret_values(tmp_path: Path) -> None:
    env = {
        "BRIDGE_STORES_FILE": str(tmp_path / "missing.toml"),
        "COMMERCE_BASE_URL": "ftp://nope",
        "COMMERCE_CONSUMER_KEY": "ck-SECRET",
        "BRIDGE_WEBHOOK_BUDGET_MS": "fast",
        "BRIDGE_ON_ACCEPT": "hold",
        "DATABASE_URL": "mysql://x",
    }
    with pytest.raises(ConfigError) as raised:
        load_settings(env)
    text = str(raised.value)
    for name in (
        "COMMERCE_BASE_URL", "COMMERCE_ACCESS_TOKEN", "COMMERCE_CONSUMER_SECRET", "COMMERCE_WEBHOOK_PUBLIC_KEY",
        "LWA_CLIENT_ID", "LWA_CLIENT_SECRET", "BRIDGE_STORES_FILE", "BRIDGE_WEBHOOK_BUDGET_MS", "BRIDGE_ON_ACCEPT",
        "DATABASE_URL",
    ):  # fmt: skip
        assert name in text
    assert "SECRET" not in text.replace("_SECRET", "")


def test_unsigned_webhooks_need_an_explicit_opt_in(valid_env: dict[str, str]) -> None:
    del valid_env["COMMERCE_WEBHOOK_PUBLIC_KEY"]
    with pytest.raises(ConfigError):
        load_settings(valid_env)
    assert load_settings({**valid_env, "COMMERCE_WEBHOOK_SECRET": "s"}).webhook_secrets == ("s",)
    assert load_settings({**valid_env, "BRIDGE_ALLOW_UNSIGNED_WEBHOOKS": "1"}).allow_unsigned_webhooks


def test_public_key_from_file_and_escaped_newlines(valid_env: dict[str, str], public_key_pem: str, tmp_path) -> None:
    key_file = tmp_path / "key.pem"
    key_file.write_text(public_key_pem)
    env = {k: v for k, v in valid_env.items() if k != "COMMERCE_WEBHOOK_PUBLIC_KEY"}
    assert load_settings({**env, "COMMERCE_WEBHOOK_PUBLIC_KEY_FILE": str(key_file)}).webhook_public_keys
    one_line = public_key_pem.strip().replace("\n", "\\n")
    assert load_settings({**env, "COMMERCE_WEBHOOK_PUBLIC_KEY": one_line}).webhook_public_keys
    with pytest.raises(ConfigError, match="not a PEM public key"):
        load_settings({**env, "COMMERCE_WEBHOOK_PUBLIC_KEY": "-----BEGIN PUBLIC KEY-----\nxx\n"})


def test_oauth1_needs_all_four_credentials(valid_env: dict[str, str]) -> None:
    oauth = {"COMMERCE_CONSUMER_KEY": "ck", "COMMERCE_CONSUMER_SECRET": "cs", "COMMERCE_ACCESS_TOKEN_SECRET": "ts"}
    assert load_settings({**valid_env, **oauth}).commerce_auth.uses_oauth1
    with pytest.raises(ConfigError, match="COMMERCE_ACCESS_TOKEN_SECRET"):
        load_settings({**valid_env, **oauth, "COMMERCE_ACCESS_TOKEN_SECRET": ""})


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u:p@h:5432/db", "postgresql+psycopg://u:p@h:5432/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_url_normalisation(url: str, expected: str) -> None:
    assert normalize_database_url(url) == expected


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        ('region = "eu"', 'region = "mars"', "region"),
        ('default_cancel_reason = "NoInventory"', 'default_cancel_reason = "Whatever"', "default_cancel_reason"),
        ('locale = "it_IT"', 'locale = "fr_FR"', "locale"),
        ("commerce_store_ids = [2]", "commerce_store_ids = [1]", "claimed by both"),
        ("order_import = true", 'order_import = "yes"', "order_import"),
        ("[[stores]]", "[[stores]\n", "not valid TOML"),
    ],
)
def test_store_file_problems(valid_env, stores_file: Path, replace: str, by: str, message: str) -> None:
    stores_file.write_text(STORES_TOML.replace(replace, by, 1))
    with pytest.raises(ConfigError, match=message):
        load_settings(valid_env)


def test_missing_refresh_token_is_named_not_shown(valid_env: dict[str, str]) -> None:
    del valid_env["SPAPI_REFRESH_TOKEN_US"]
    with pytest.raises(ConfigError, match="SPAPI_REFRESH_TOKEN_US: not set"):
        load_settings(valid_env)


@pytest.mark.parametrize("command", [["worker"], ["doctor"]])
def test_cli_prints_one_message_and_no_traceback(tmp_path: Path, command: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bridge.cli", *command],
        env={"PATH": "/usr/bin:/bin", "BRIDGE_STORES_FILE": str(tmp_path / "none.toml")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = result.stdout + result.stderr
    assert result.returncode in (1, 2)  # the doctor reports (1), the worker refuses to start (2)
    assert "COMMERCE_BASE_URL" in output and "Traceback" not in output


def test_pipeline_settings_and_quota_overrides(valid_env: dict[str, str]) -> None:
    settings = load_settings(
        {**valid_env, "BRIDGE_FEED_POLL_SECONDS": "5", "SPAPI_QUOTAS": "getOrder=2:60, createFeed=0.02:20"}
    )
    assert settings.pipeline.feed_poll_seconds == 5.0
    assert settings.pipeline.feed_poll_backstop_seconds == 300.0
    assert settings.pipeline.lease_seconds == 120.0
    assert settings.spapi_quotas["getOrder"] == (2.0, 60)
    assert settings.spapi_quotas["createFeed"] == (0.02, 20)
    assert settings.spapi_quotas["getFeed"] == (2.0, 15)  # Amazon's published default
    with pytest.raises(ConfigError) as raised:
        load_settings({**valid_env, "BRIDGE_MAX_FEED_ATTEMPTS": "0", "SPAPI_QUOTAS": "cancelOrder=1:1"})
    assert "BRIDGE_MAX_FEED_ATTEMPTS" in str(raised.value) and "cancelOrder" in str(raised.value)


def test_the_doubling_feed_poll_settings_are_gone_and_name_their_replacement(valid_env: dict[str, str]) -> None:
    """A merchant's .env that still tunes the old doubling delay is stopped at start-up, not quietly ignored."""
    with pytest.raises(ConfigError) as raised:
        load_settings({**valid_env, "BRIDGE_FEED_POLL_INITIAL_SECONDS": "30", "BRIDGE_FEED_POLL_MAX_SECONDS": "300"})
    message = str(raised.value)
    assert "BRIDGE_FEED_POLL_INITIAL_SECONDS: no longer read" in message and "BRIDGE_FEED_POLL_SECONDS" in message
    assert "BRIDGE_FEED_POLL_MAX_SECONDS: no longer read" in message
    assert "BRIDGE_FEED_POLL_BACKSTOP_SECONDS" in message


def test_hold_mode_is_gone_and_says_why(valid_env: dict[str, str]) -> None:
    """``hold`` answered Commerce "stop" and canceled at Amazon anyway: an Amazon cancel Commerce never made."""
    with pytest.raises(ConfigError, match="'hold' is no longer offered"):
        load_settings({**valid_env, "BRIDGE_ON_ACCEPT": "hold"})
    assert load_settings({**valid_env, "BRIDGE_ON_ACCEPT": "proceed"})


@pytest.mark.parametrize("quota", ["getOrder=nan:5", "getOrder=inf:5", "getOrder=-1:5", "getOrder=0.5:0"])
def test_quota_overrides_must_be_finite_and_positive(valid_env: dict[str, str], quota: str) -> None:
    with pytest.raises(ConfigError, match="SPAPI_QUOTAS"):
        load_settings({**valid_env, "SPAPI_QUOTAS": quota})


def test_buyer_canceled_is_refused_as_a_store_default_with_the_reason(valid_env, stores_file: Path) -> None:
    stores_file.write_text(STORES_TOML.replace('"NoInventory"', '"BuyerCanceled"', 1))
    with pytest.raises(ConfigError, match="BuyerCanceled cannot be a default: it tells Amazon the buyer asked"):
        load_settings(valid_env)


def test_a_single_bracket_stores_table_gets_a_hint(valid_env, stores_file: Path) -> None:
    stores_file.write_text("[stores]\n" + STORES_TOML.split("[[stores]]")[1])
    with pytest.raises(ConfigError, match=r"each store is a \[\[stores\]\] table \(two brackets\), not \[stores\]"):
        load_settings(valid_env)


def test_relative_paths_resolve_from_the_home_not_the_working_directory(valid_env, tmp_path: Path, monkeypatch) -> None:
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "stores.toml").write_text(STORES_TOML)
    env = {k: v for k, v in valid_env.items() if k not in ("BRIDGE_STORES_FILE", "BRIDGE_INSTANCE_PATH")}
    monkeypatch.chdir(tmp_path)
    settings = load_settings({**env, "BRIDGE_HOME": str(home), "DATABASE_URL": "sqlite:///data/bridge.sqlite"})
    assert settings.stores_file == home / "config" / "stores.toml"
    assert settings.database_url == f"sqlite:///{home / 'data' / 'bridge.sqlite'}"
    assert settings.instance_path == home / "instance"


def test_the_home_is_the_checkout_or_for_an_installed_bridge_its_users_folder_never_the_working_directory(
    tmp_path: Path,
) -> None:
    """Installed (no pyproject.toml beside the package, as ``pip install .`` leaves it), the bridge keeps its stores
    file and instance folder in ``~/.bridge``, from whichever directory a command starts."""
    checkout = Path(__file__).resolve().parents[2]
    assert home_of({}) == checkout
    site, elsewhere, user = tmp_path / "site", tmp_path / "elsewhere", tmp_path / "user"
    shutil.copytree(checkout / "bridge", site / "bridge", ignore=shutil.ignore_patterns("__pycache__"))
    elsewhere.mkdir()
    (elsewhere / "pyproject.toml").write_text("")  # not even a project folder one happens to be in
    code = "import bridge, bridge.settings as s; print(bridge.__file__); print(s.home_of({}))"
    shown = subprocess.run(
        [sys.executable, "-c", code], cwd=elsewhere, capture_output=True, text=True, check=True,
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(site), "HOME": str(user)},
    )  # fmt: skip
    assert shown.stdout.splitlines() == [str(site / "bridge" / "__init__.py"), str(user / ".bridge")]


def test_a_dot_env_file_in_the_working_directory_is_read_and_the_environment_wins(tmp_path: Path, monkeypatch) -> None:
    from bridge.settings import load_dotenv_file

    (tmp_path / ".env").write_text("BRIDGE_TEST_FROM_DOTENV=file\nBRIDGE_TEST_BOTH=file\n")
    monkeypatch.setenv("BRIDGE_TEST_BOTH", "environment")
    monkeypatch.delenv("BRIDGE_TEST_FROM_DOTENV", raising=False)
    monkeypatch.chdir(tmp_path)
    assert load_dotenv_file() == tmp_path / ".env"
    assert os.environ["BRIDGE_TEST_FROM_DOTENV"] == "file" and os.environ["BRIDGE_TEST_BOTH"] == "environment"
    monkeypatch.delenv("BRIDGE_TEST_FROM_DOTENV")


def test_metrics_settings(valid_env: dict[str, str], tmp_path: Path) -> None:
    settings = load_settings({**valid_env, "BRIDGE_METRICS_TOKEN": "scrape-SECRET-token"})
    assert settings.metrics.directory == (tmp_path / "instance" / "prometheus").resolve()
    assert "scrape-SECRET-token" in settings.secrets  # redacted from every log line
    assert "scrape-SECRET-token" not in repr(settings)
    with pytest.raises(ConfigError, match="BRIDGE_WORKER_METRICS_PORT: must be a TCP port"):
        load_settings({**valid_env, "BRIDGE_WORKER_METRICS_PORT": "70000"})
    assert load_settings({**valid_env, "BRIDGE_WORKER_METRICS_PORT": "9102"}).metrics.worker_port == 9102


def test_the_worker_command_chooses_the_metrics_mode_before_prometheus_client_loads() -> None:
    """prometheus_client decides once, when first imported, whether it writes to the shared directory."""
    code = "import sys, bridge.cli.main, bridge.process; print('prometheus_client' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert loaded.stdout.strip() == "False"


def test_the_shipped_stores_example_loads_as_it_stands() -> None:
    """An integrator copies it first: every line of it must be accepted."""
    example = Path(__file__).resolve().parents[2] / "config" / "stores.example.toml"
    tokens = {name: "Atzr|example" for name in re.findall(r'refresh_token_env = "(\w+)"', example.read_text())}
    stores, problems = load_stores(example, tokens)
    assert problems == [] and len(stores) == len(tokens) > 0


def test_trusted_proxies_default_to_loopback_and_bad_entries_are_named(valid_env: dict[str, str]) -> None:
    assert [str(network) for network in load_settings(valid_env).trusted_proxies] == ["127.0.0.1/32", "::1/128"]
    listed = load_settings({**valid_env, "BRIDGE_TRUSTED_PROXIES": "10.0.0.7, 10.1.0.0/16,fd00::1"}).trusted_proxies
    assert [str(network) for network in listed] == ["10.0.0.7/32", "10.1.0.0/16", "fd00::1/128"]
    assert load_settings({**valid_env, "BRIDGE_TRUSTED_PROXIES": ""}).trusted_proxies == ()
    with pytest.raises(ConfigError) as raised:
        load_settings({**valid_env, "BRIDGE_TRUSTED_PROXIES": "10.0.0.7,proxy.internal"})
    assert "BRIDGE_TRUSTED_PROXIES: 'proxy.internal' is not an IP address or network" in str(raised.value)


def test_the_notification_queue_is_off_unless_set_and_must_be_a_queue_url(valid_env: dict[str, str]) -> None:
    assert load_settings(valid_env).sqs_queue_url is None
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/bridge-notifications"
    assert load_settings({**valid_env, "BRIDGE_SQS_QUEUE_URL": url}).sqs_queue_url == url
    for wrong in ("arn:aws:sqs:eu-west-1:123456789012:bridge", "https://sqs.eu-west-1.amazonaws.com/bridge"):
        with pytest.raises(ConfigError, match="BRIDGE_SQS_QUEUE_URL: must be the queue's URL"):
            load_settings({**valid_env, "BRIDGE_SQS_QUEUE_URL": wrong})
