"""A complete local world for the bridge: Amazon and Commerce stand-ins, a signing key, stores and settings.

Used by ``bridge demo`` and the benchmark, so both run the bridge exactly as deployed, on loopback only.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from standins.amazon.standin import AmazonStandIn
from standins.commerce import CommerceStandIn, Integration
from standins.commerce_webhook import CommerceWebhook
from standins.procfile import ProcfileProcess, WebProcess, run_release
from standins.server import BackgroundServer

P = TypeVar("P", bound=ProcfileProcess)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def signals_held() -> Iterator[None]:
    """SIGTERM and SIGINT wait until the block is done, then reach their handlers as if they came just after it."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread runs signal handlers
        return
    arrived: list[int] = []
    previous = {signum: signal.signal(signum, lambda signum, _: arrived.append(signum)) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in arrived[:1]:
            signal.raise_signal(signum)


@dataclass(frozen=True)
class DemoStore:
    code: str
    commerce_store_id: int
    seller_id: str
    marketplace_id: str
    region: str
    order_import: bool
    default_cancel_reason: str
    locale: str

    @property
    def refresh_token_env(self) -> str:
        return f"SPAPI_REFRESH_TOKEN_{self.code.upper().replace('-', '_')}"

    def toml(self) -> str:
        return (
            "[[stores]]\n"
            f'code = "{self.code}"\ncommerce_store_ids = [{self.commerce_store_id}]\n'
            f'seller_id = "{self.seller_id}"\nmarketplace_id = "{self.marketplace_id}"\nregion = "{self.region}"\n'
            f'refresh_token_env = "{self.refresh_token_env}"\norder_import = {str(self.order_import).lower()}\n'
            f'default_cancel_reason = "{self.default_cancel_reason}"\nlocale = "{self.locale}"\n'
        )


DEMO_STORES = (
    DemoStore("amazon-it", 1, "A1SELLERIT", "APJ6JRA9NG5V4", "eu", True, "NoInventory", "it_IT"),
    DemoStore("amazon-us", 2, "A2SELLERUS", "ATVPDKIKX0DER", "na", True, "GeneralAdjustment", "en_US"),
    DemoStore("amazon-de", 3, "A3SELLERDE", "A1PA6795UKMFR9", "eu", False, "NoInventory", "en_US"),
)


@dataclass
class LocalWorld:
    """Stand-ins running in this process plus the environment that points a bridge at them."""

    workdir: Path
    stores: tuple[DemoStore, ...] = DEMO_STORES
    amazon: AmazonStandIn = field(default_factory=AmazonStandIn)
    integration: Integration = field(default_factory=lambda: Integration(access_token="demo-commerce-token"))  # noqa: S106
    private_key: RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))

    def __post_init__(self) -> None:
        self.commerce = CommerceStandIn(self.integration, signing_key=self.private_key)  # calls what is subscribed
        self._servers: list[BackgroundServer] = []
        self._processes: list[ProcfileProcess] = []

    def start(self) -> LocalWorld:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.amazon_server = BackgroundServer(self.amazon.app).start()
        self.commerce_server = BackgroundServer(self.commerce.app).start()
        self._servers += [self.amazon_server, self.commerce_server]
        for store in self.stores:
            self.amazon.add_seller(store.seller_id, self.refresh_token(store))
        (self.workdir / "stores.toml").write_text("\n".join(s.toml() for s in self.stores), encoding="utf-8")
        public_pem = self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        (self.workdir / "commerce_webhook_public_key.pem").write_bytes(public_pem)
        return self

    @staticmethod
    def refresh_token(store: DemoStore) -> str:
        return f"Atzr|demo-refresh-{store.code}"

    def bridge_env(self, **overrides: str) -> dict[str, str]:
        env = {
            "DATABASE_URL": f"sqlite:///{self.workdir / 'bridge.sqlite'}",
            "BRIDGE_INSTANCE_PATH": str(self.workdir / "instance"),
            "COMMERCE_BASE_URL": self.commerce_server.url,
            "COMMERCE_ACCESS_TOKEN": self.integration.access_token,
            "COMMERCE_WEBHOOK_PUBLIC_KEY_FILE": str(self.workdir / "commerce_webhook_public_key.pem"),
            "LWA_CLIENT_ID": self.amazon.client_id,
            "LWA_CLIENT_SECRET": self.amazon.client_secret,
            "LWA_TOKEN_URL": f"{self.amazon_server.url}/auth/o2/token",
            "SPAPI_ENDPOINT": self.amazon_server.url,
            "BRIDGE_STORES_FILE": str(self.workdir / "stores.toml"),
            **{store.refresh_token_env: self.refresh_token(store) for store in self.stores},
        }
        env.update(overrides)
        return env

    def start_bridge(self, env: dict[str, str], log_file: Path) -> WebProcess:
        """Release, then web, from the Procfile; the bridge is ready when this returns."""
        run_release(env)
        return self._started(lambda: WebProcess(env, log_file)).wait_until_ready()

    def start_worker(self, env: dict[str, str], log_file: Path) -> ProcfileProcess:
        return self._started(lambda: ProcfileProcess("worker", env, log_file))

    def _started(self, start: Callable[[], P]) -> P:
        """Start a process and record it for ``stop`` as one step that SIGTERM or SIGINT cannot split (a handler
        that raises between the two would leave a process running that nobody stops)."""
        with signals_held():
            process = start()
            self._processes.append(process)
        return process

    def hook(self, bridge_url: str, timeout: float = 5.0) -> CommerceWebhook:
        """Commerce's before and after hooks on the cancel, as config/webhooks.xml installs them."""
        return CommerceWebhook(
            f"{bridge_url}/webhooks/commerce/order-cancel",
            after_url=f"{bridge_url}/webhooks/commerce/order-cancel-after",
            private_key=self.private_key,
            timeout=timeout,
        )

    def stop(self) -> None:
        for process in self._processes:
            process.stop()
        for server in self._servers:
            server.stop()
