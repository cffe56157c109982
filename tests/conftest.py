"""Fixtures: real stand-ins on loopback, a fresh database per test, and the bridge itself.

The database is SQLite unless a test asks for PostgreSQL too (``BOTH_DATABASES``, or ``indirect`` parametrizing of
``database_url``): PostgreSQL runs where it behaves differently (claims, leases, quota buckets, concurrency).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from flask import Flask

from bridge.composition import Storage, WebServices, build_storage, build_worker
from bridge.pipeline.worker_context import WorkerContext
from bridge.settings import Settings, load_settings
from bridge.storage.engine import make_engine, upgrade
from bridge.web.app import create_app
from bridge.web.app_services import services_of
from standins.amazon import AmazonStandIn
from standins.commerce import CommerceStandIn
from standins.commerce_webhook import REQUEST_ID_HEADER, SIGNATURE_HEADER, CommerceWebhook, commerce_signature
from standins.databases import postgres_reachable, throwaway_schema
from standins.php_json import php_json_encode
from standins.server import BackgroundServer
from tests.reference import in_ci, optional_reference
from tests.seeds import INTEGRATION, REFRESH_TOKENS, STORES_TOML

PG_ADMIN_URL = os.environ.get("BRIDGE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
WEBHOOK_PATH = "/webhooks/commerce/order-cancel"
AFTER_WEBHOOK_PATH = "/webhooks/commerce/order-cancel-after"
BOTH_DATABASES = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


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


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or (when asked) a PostgreSQL schema of its own on the local server."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield f"sqlite:///{tmp_path / 'bridge.sqlite'}"
        return
    if not postgres_reachable(PG_ADMIN_URL):
        if in_ci():
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}; .ci/run should have started it")
        pytest.skip(f"no PostgreSQL server reachable at {PG_ADMIN_URL}")
    with throwaway_schema(PG_ADMIN_URL) as url:
        yield url


@pytest.fixture
def amazon() -> Iterator[AmazonStandIn]:
    # With Amazon's XSD at hand the stand-in refuses feeds that do not validate, as Amazon does.
    standin = AmazonStandIn(xsd_dir=optional_reference("amazon", "xsd"))
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
class HookResponse:
    """The bridge's answer to one hook call, the same whether it came over HTTP or through Flask's test client."""

    status_code: int
    text: str
    headers: Any
    body: Any

    def json(self) -> Any:
        return self.body


@dataclass
class SignedHook:
    """Commerce's side of the webhook, signing as Commerce does, posted through Flask's test client."""

    app: Flask
    private_key: RSAPrivateKey | None
    secret_header: tuple[str, str] | None = None

    def post(self, payload: object) -> HookResponse:
        return self.post_bytes(php_json_encode(payload))

    def post_after(self, entity_id: int, canceled: bool) -> HookResponse:
        """The after hook, as Commerce calls it once its cancel ran."""
        body = php_json_encode({"subject": [], "result": canceled, "id": str(entity_id)})
        return self.post_bytes(body, path=AFTER_WEBHOOK_PATH)

    def signed_headers(self, body: bytes, signature: str | None = None) -> dict[str, str]:
        """The headers Commerce sends with ``body``: signed (or with the ``signature`` given), secret if set."""
        headers = {"Content-Type": "application/json", REQUEST_ID_HEADER: "test-request"}
        if signature is not None:
            headers[SIGNATURE_HEADER] = signature
        elif self.private_key is not None:
            headers[SIGNATURE_HEADER] = commerce_signature(body, self.private_key)
        if self.secret_header is not None:
            headers[self.secret_header[0]] = self.secret_header[1]
        return headers

    def post_bytes(self, body: bytes, signature: str | None = None, path: str = WEBHOOK_PATH) -> HookResponse:
        """Any bytes, signed as Commerce signs them (or with the ``signature`` given)."""
        response = self.app.test_client().post(path, data=body, headers=self.signed_headers(body, signature))
        return HookResponse(response.status_code, response.get_data(as_text=True), response.headers, response.json)


@dataclass
class RunningBridge:
    app: Flask
    settings: Settings
    url: str
    private_key: RSAPrivateKey

    @property
    def parts(self) -> WebServices:
        """What the app's views use."""
        return services_of(self.app)

    @cached_property
    def records(self) -> Storage:
        """The bridge's records, on an engine of the test's own (as a command or another process has)."""
        return build_storage(self.settings.database_url)

    def worker(self, owner: str = "test-worker") -> WorkerContext:
        """A worker's context on the same database, for driving the pipeline's steps."""
        return build_worker(self.settings, owner, self.records)

    @property
    def webhook_url(self) -> str:
        return f"{self.url}{WEBHOOK_PATH}"

    def hook(self, **overrides: Any) -> SignedHook:
        """Commerce's side of the webhook through the test client (where HTTP itself is not the point)."""
        options: dict[str, Any] = {"private_key": self.private_key, **overrides}
        return SignedHook(self.app, **options)

    def http_hook(self, **overrides: Any) -> CommerceWebhook:
        """Commerce's side of the webhook over real HTTP, as the Commerce stand-in calls it."""
        options: dict[str, Any] = {
            "url": self.webhook_url,
            "after_url": f"{self.url}{AFTER_WEBHOOK_PATH}",
            "private_key": self.private_key,
            **overrides,
        }
        return CommerceWebhook(**options)

    def cancel_requests(self) -> list:
        return self.parts.request_queries.all()


@pytest.fixture
def start_bridge(
    bridge_env: dict[str, str], private_key: RSAPrivateKey, commerce: CommerceStandIn
) -> Iterator[Callable[..., RunningBridge]]:
    """Start the bridge (migrated database, served on loopback) with optional environment overrides."""
    started: list[tuple[BackgroundServer, RunningBridge]] = []

    def start(**env_overrides: str) -> RunningBridge:
        settings = load_settings({**bridge_env, **env_overrides})
        upgrade(make_engine(settings.database_url))
        app = create_app(settings)
        server = BackgroundServer(app).start()
        bridge = RunningBridge(app, settings, server.url, private_key)
        started.append((server, bridge))
        commerce.cancel_hook = bridge.http_hook()
        return bridge

    yield start
    for server, bridge in started:
        server.stop()
        bridge.parts.engine.dispose()
        if "records" in vars(bridge):
            bridge.records.engine.dispose()


@pytest.fixture
def bridge(start_bridge: Callable[..., RunningBridge]) -> RunningBridge:
    return start_bridge()


@pytest.fixture(scope="session")
def sqs_endpoint() -> Iterator[str]:
    """A real SQS protocol endpoint on loopback (moto's server mode), for Amazon's notifications."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    give_up = time.monotonic() + 30
    while not _answers(url):
        if time.monotonic() > give_up:
            server.stop()
            pytest.fail(f"the local SQS endpoint at {url} did not answer within 30 s")
        threading.Event().wait(0.05)
    yield url
    server.stop()


def _answers(url: str) -> bool:
    try:
        requests.get(url, timeout=1)
    except requests.RequestException:
        return False
    return True


SQS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture
def sqs_env(sqs_endpoint: str, monkeypatch: pytest.MonkeyPatch, amazon: AmazonStandIn) -> Iterator[dict[str, str]]:
    """boto3's environment for the local endpoint, in this process (the worker, the stand-in) and for subprocesses;
    the stand-in's notifier is stopped afterwards."""
    env = {**SQS_ENV, "AWS_ENDPOINT_URL_SQS": sqs_endpoint}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    amazon.notifications.sqs_endpoint_url = sqs_endpoint
    yield env
    amazon.notifications.stop()
