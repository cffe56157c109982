"""Fixtures: real stand-ins on loopback, a fresh database per test (SQLite and PostgreSQL), the bridge over HTTP."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from flask import Flask

from bridge.app import create_app
from bridge.config import Settings, load_settings
from bridge.database import make_engine, upgrade
from bridge.services import services_of
from bridge.standins.amazon import AmazonStandIn
from bridge.standins.commerce import CommerceStandIn, Integration
from bridge.standins.commerce_webhooks import CommerceWebhook
from bridge.standins.databases import postgres_reachable, throwaway_schema
from bridge.standins.server import BackgroundServer

SHARED = Path(__file__).resolve().parents[2] / "shared"
PG_ADMIN_URL = os.environ.get("BRIDGE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")

STORES_TOML = """
[[stores]]
code = "it"
commerce_store_ids = [1]
seller_id = "A1SELLERIT"
marketplace_id = "APJ6JRA9NG5V4"
region = "eu"
refresh_token_env = "SPAPI_REFRESH_TOKEN_IT"
order_import = true
default_cancel_reason = "NoInventory"
locale = "it_IT"

[[stores]]
code = "us"
commerce_store_ids = [2]
seller_id = "A2SELLERUS"
marketplace_id = "ATVPDKIKX0DER"
region = "na"
refresh_token_env = "SPAPI_REFRESH_TOKEN_US"
order_import = true
default_cancel_reason = "GeneralAdjustment"
locale = "en_US"

[[stores]]
code = "de-import-off"
commerce_store_ids = [3]
seller_id = "A3SELLERDE"
marketplace_id = "A1PA6795UKMFR9"
region = "eu"
refresh_token_env = "SPAPI_REFRESH_TOKEN_DE"
order_import = false
default_cancel_reason = "NoInventory"
locale = "en_US"
"""

REFRESH_TOKENS = {
    "SPAPI_REFRESH_TOKEN_IT": ("A1SELLERIT", "Atzr|refresh-it-secret"),
    "SPAPI_REFRESH_TOKEN_US": ("A2SELLERUS", "Atzr|refresh-us-secret"),
    "SPAPI_REFRESH_TOKEN_DE": ("A3SELLERDE", "Atzr|refresh-de-secret"),
}
INTEGRATION = Integration(
    access_token="commerce-access-token-secret",
    consumer_key="ck-standin",
    consumer_secret="cs-secret-value",
    access_token_secret="ats-secret-value",
)


@pytest.fixture(scope="session")
def private_key() -> RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def public_key_pem(private_key: RSAPrivateKey) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a PostgreSQL schema of its own on the local server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bridge.sqlite'}"
        return
    if not postgres_reachable(PG_ADMIN_URL):
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}; .ci/run should have started it")
        pytest.skip(f"no PostgreSQL server reachable at {PG_ADMIN_URL}")
    with throwaway_schema(PG_ADMIN_URL) as url:
        yield url


@pytest.fixture
def amazon() -> Iterator[AmazonStandIn]:
    standin = AmazonStandIn(xsd_dir=SHARED / "reference" / "amazon" / "xsd")
    for seller_id, refresh_token in REFRESH_TOKENS.values():
        standin.add_seller(seller_id, refresh_token)
    server = BackgroundServer(standin.app).start()
    standin.url = server.url  # type: ignore[attr-defined]
    yield standin
    server.stop()


@pytest.fixture
def commerce() -> Iterator[CommerceStandIn]:
    standin = CommerceStandIn(INTEGRATION)
    server = BackgroundServer(standin.app).start()
    standin.url = server.url  # type: ignore[attr-defined]
    yield standin
    server.stop()


@pytest.fixture
def stores_file(tmp_path: Path) -> Path:
    path = tmp_path / "stores.toml"
    path.write_text(STORES_TOML, encoding="utf-8")
    return path


@pytest.fixture
def bridge_env(
    amazon: AmazonStandIn,
    commerce: CommerceStandIn,
    stores_file: Path,
    public_key_pem: str,
    database_url: str,
    tmp_path: Path,
) -> dict[str, str]:
    """The environment a deployed bridge would have, pointing at the stand-ins."""
    return {
        "DATABASE_URL": database_url,
        "BRIDGE_INSTANCE_PATH": str(tmp_path / "instance"),
        "COMMERCE_BASE_URL": commerce.url,  # type: ignore[attr-defined]
        "COMMERCE_ACCESS_TOKEN": INTEGRATION.access_token,
        "COMMERCE_WEBHOOK_PUBLIC_KEY": public_key_pem,
        "LWA_CLIENT_ID": amazon.client_id,
        "LWA_CLIENT_SECRET": amazon.client_secret,
        "LWA_TOKEN_URL": f"{amazon.url}/auth/o2/token",  # type: ignore[attr-defined]
        "SPAPI_ENDPOINT": amazon.url,  # type: ignore[attr-defined]
        "BRIDGE_STORES_FILE": str(stores_file),
        **{name: token for name, (_, token) in REFRESH_TOKENS.items()},
    }


@dataclass
class RunningBridge:
    app: Flask
    settings: Settings
    url: str
    private_key: RSAPrivateKey

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/webhooks/commerce/order-cancel"

    def hook(self, **overrides: object) -> CommerceWebhook:
        """Commerce's side of the webhook, signing with the store's key."""
        options: dict[str, object] = {"url": self.webhook_url, "private_key": self.private_key, **overrides}
        return CommerceWebhook(**options)  # type: ignore[arg-type]

    def cancel_requests(self) -> list:
        return services_of(self.app).cancel_requests.all()


@pytest.fixture
def start_bridge(
    bridge_env: dict[str, str], private_key: RSAPrivateKey, commerce: CommerceStandIn
) -> Iterator[Callable[..., RunningBridge]]:
    """Start the bridge (migrated database, real HTTP on loopback) with optional environment overrides."""
    started: list[tuple[BackgroundServer, Flask]] = []

    def start(**env_overrides: str) -> RunningBridge:
        env = {**bridge_env, **env_overrides}
        settings = load_settings(env)
        upgrade(make_engine(settings.database_url))
        app = create_app(settings)
        server = BackgroundServer(app).start()
        started.append((server, app))
        bridge = RunningBridge(app, settings, server.url, private_key)
        commerce.cancel_hook = bridge.hook()
        return bridge

    yield start
    for server, app in started:
        server.stop()
        services_of(app).engine.dispose()


@pytest.fixture
def bridge(start_bridge: Callable[..., RunningBridge]) -> RunningBridge:
    return start_bridge()
