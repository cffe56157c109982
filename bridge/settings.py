"""Settings from the environment (12-factor), checked once at start-up.

``load_settings`` collects every problem before failing, so an operator fixes the whole environment in one
pass; messages name the variable, never its value.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from ipaddress import ip_network
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from dotenv import load_dotenv
from sqlalchemy.engine import make_url

from bridge.domain.locales import DEFAULT_LOCALE, LOCALES
from bridge.domain.order_importers import DEFAULT_IMPORTERS, IdFrom, Importer, parse_id_from
from bridge.domain.reconciliation import AmazonCancels, BuyerCancelRequests
from bridge.domain.sign_in_throttle import LOOPBACK, IPNetwork
from bridge.domain.spapi_quotas import PUBLISHED_QUOTAS
from bridge.domain.stores import StoreDirectory
from bridge.errors import ConfigError
from bridge.stores_file import load_stores

DEFAULT_LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"
SECRET_HEADER_DEFAULT = "X-Bridge-Webhook-Secret"
Choice = TypeVar("Choice", bound=StrEnum)
TRUTHY = {"1", "true", "yes", "on"}
MIN_SECRET_KEY_LENGTH = 32
INSTALLED_HOME = "~/.bridge"  # an installed bridge (pip install ., not -e) without BRIDGE_HOME: of its user


@dataclass(frozen=True)
class CommerceAuth:
    """Integration credentials: Bearer when only the access token is set, OAuth 1.0a when all four are."""

    access_token: str = field(repr=False)
    consumer_key: str = field(repr=False, default="")
    consumer_secret: str = field(repr=False, default="")
    access_token_secret: str = field(repr=False, default="")

    @property
    def uses_oauth1(self) -> bool:
        return bool(self.consumer_key)


@dataclass(frozen=True)
class PipelineSettings:
    """How the worker paces itself. Defaults suit production; tests and the demo shorten them."""

    worker_idle_seconds: float = 1.0  # the longest wait when there is nothing to do (what comes unannounced waits this)
    lease_seconds: float = 120.0  # a dead worker's jobs are taken over after this
    feed_poll_seconds: float = 1.0  # getFeed per feed in progress (longer when the quota must be shared)
    feed_poll_backstop_seconds: float = 300.0  # ... while Amazon's notifications say when a feed is done
    retry_backoff_seconds: float = 60.0  # after a transient fault or a FATAL feed; doubles per attempt
    max_feed_attempts: int = 5  # feeds a request may go out in before an operator must look
    confirm_checks: int = 10  # status reads after a clean report before giving up on seeing CANCELLED
    feed_max_messages: int = 5000  # ~2 MB of XML, well under Amazon's 10 MB
    feed_gather_seconds: float = 2.0  # send once no cancel joined the batch for this long (a mass cancel ended)
    feed_max_wait_seconds: float = 60.0  # ... or once the oldest has waited this long
    write_back_concurrency: int = 4  # parallel Commerce calls for write-backs
    mirror_max_age_seconds: float = 600.0  # trust the order mirror while it is this fresh; 0 = always read live
    mirror_refresh_seconds: float = 300.0  # keep it fresh (searchOrders refills one call per 180 s)
    mirror_backfill_days: int = 30  # every order created this far back is loaded into the mirror at start
    commerce_confirm_seconds: float = 10.0  # without Commerce's after hook by then, read the order back
    commerce_cancel_window_seconds: float = 900.0  # not canceled in Commerce by then: the request ends, unsent
    commerce_links_refresh_seconds: float = 60.0  # the Commerce link mirror looks for changed orders this often


PIPELINE_VARIABLES = {
    "BRIDGE_WORKER_IDLE_SECONDS": ("worker_idle_seconds", float, 0.01, 3600),
    "BRIDGE_WORKER_LEASE_SECONDS": ("lease_seconds", float, 1, 86400),
    "BRIDGE_FEED_POLL_SECONDS": ("feed_poll_seconds", float, 0.01, 3600),
    "BRIDGE_FEED_POLL_BACKSTOP_SECONDS": ("feed_poll_backstop_seconds", float, 0.01, 86400),
    "BRIDGE_RETRY_BACKOFF_SECONDS": ("retry_backoff_seconds", float, 0.01, 86400),
    "BRIDGE_MAX_FEED_ATTEMPTS": ("max_feed_attempts", int, 1, 100),
    "BRIDGE_CONFIRM_CHECKS": ("confirm_checks", int, 1, 1000),
    "BRIDGE_FEED_MAX_MESSAGES": ("feed_max_messages", int, 1, 20000),
    "BRIDGE_FEED_GATHER_SECONDS": ("feed_gather_seconds", float, 0, 3600),
    "BRIDGE_FEED_MAX_WAIT_SECONDS": ("feed_max_wait_seconds", float, 0, 86400),
    "BRIDGE_WRITE_BACK_CONCURRENCY": ("write_back_concurrency", int, 1, 32),
    "BRIDGE_MIRROR_MAX_AGE_SECONDS": ("mirror_max_age_seconds", float, 0, 86400),
    "BRIDGE_MIRROR_REFRESH_SECONDS": ("mirror_refresh_seconds", float, 1, 86400),
    "BRIDGE_MIRROR_BACKFILL_DAYS": ("mirror_backfill_days", int, 1, 365),
    "BRIDGE_COMMERCE_CONFIRM_SECONDS": ("commerce_confirm_seconds", float, 0.01, 3600),
    "BRIDGE_COMMERCE_CANCEL_WINDOW_SECONDS": ("commerce_cancel_window_seconds", float, 1, 7 * 86400),
    "BRIDGE_COMMERCE_LINKS_REFRESH_SECONDS": ("commerce_links_refresh_seconds", float, 0.01, 86400),
}


# Settings that no longer mean anything: set, they stop the start-up with what replaced them, rather than be
# quietly ignored.
RETIRED_PIPELINE_VARIABLES = {
    "BRIDGE_FEED_POLL_INITIAL_SECONDS": "getFeed is no longer polled at a doubling delay; "
    "BRIDGE_FEED_POLL_SECONDS (default 1) is the fixed cadence: remove this line",
    "BRIDGE_FEED_POLL_MAX_SECONDS": "getFeed is no longer polled at a doubling delay; "
    "BRIDGE_FEED_POLL_BACKSTOP_SECONDS (default 300) is the pace while notifications are live: remove this line",
}


def _pipeline_settings(env: Mapping[str, str], problems: list[str]) -> PipelineSettings:
    values: dict[str, float | int] = {}
    for variable, replacement in RETIRED_PIPELINE_VARIABLES.items():
        if env.get(variable):
            problems.append(f"{variable}: no longer read: {replacement}")
    for variable, (name, kind, low, high) in PIPELINE_VARIABLES.items():
        raw = env.get(variable)
        if raw is None or raw == "":
            continue
        try:
            value = kind(raw)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            problems.append(f"{variable}: must be a {'whole ' if kind is int else ''}number from {low} to {high}")
            continue
        values[name] = value
    return PipelineSettings(**values)  # type: ignore[arg-type]


def _choice(env: Mapping[str, str], variable: str, choices: type[Choice], problems: list[str]) -> Choice:
    """The variable's value, one of ``choices`` (the first when unset)."""
    first = next(iter(choices))
    try:
        return choices(env.get(variable) or first)
    except ValueError:
        problems.append(f"{variable}: must be one of {', '.join(choices)}")
        return first


def _quota_overrides(env: Mapping[str, str], problems: list[str]) -> dict[str, tuple[float, int]]:
    """``SPAPI_QUOTAS="getOrder=5:60,createFeed=0.02:20"``: for an application Amazon granted higher limits."""
    overrides: dict[str, tuple[float, int]] = {}
    known = PUBLISHED_QUOTAS
    raw = env.get("SPAPI_QUOTAS", "").strip()
    for item in filter(None, (part.strip() for part in raw.split(","))):
        name, _, value = item.partition("=")
        rate, _, burst = value.partition(":")
        try:
            parsed = (float(rate), int(burst))
        except ValueError:
            parsed = None
        if name not in known or parsed is None or not (math.isfinite(parsed[0]) and parsed[0] > 0) or parsed[1] < 1:
            problems.append(f"SPAPI_QUOTAS: {item!r} is not operation=rate:burst (operations: {', '.join(known)})")
            continue
        overrides[name] = parsed
    return {**PUBLISHED_QUOTAS, **overrides}


@dataclass(frozen=True)
class MetricsSettings:
    """Where the processes of one host share their metrics, who may read them, and the worker's own endpoint."""

    directory: Path  # PROMETHEUS_MULTIPROC_DIR: every gunicorn worker and the pipeline worker write here
    token: str = field(repr=False, default="")  # BRIDGE_METRICS_TOKEN: /metrics wants it as a bearer token
    readyz_token: str = field(repr=False, default="")  # BRIDGE_READYZ_TOKEN: /readyz wants it as a bearer token
    worker_port: int | None = None  # BRIDGE_WORKER_METRICS_PORT: for a worker on a host of its own


@dataclass(frozen=True)
class Settings:
    """Everything the bridge needs to run, validated."""

    database_url: str = field(repr=False)  # may hold a password
    instance_path: Path
    commerce_base_url: str
    commerce_store_code: str | None
    commerce_auth: CommerceAuth
    webhook_public_keys: tuple[RSAPublicKey, ...]
    webhook_secrets: tuple[str, ...] = field(repr=False)
    webhook_secret_header: str
    allow_unsigned_webhooks: bool
    lwa_client_id: str
    lwa_client_secret: str = field(repr=False)
    lwa_token_url: str
    spapi_endpoint: str | None
    public_url: str | None  # BRIDGE_PUBLIC_URL: where Commerce reaches the bridge (bridge hooks install)
    stores: StoreDirectory
    stores_file: Path
    webhook_budget_ms: int
    request_body_seconds: int  # BRIDGE_REQUEST_BODY_SECONDS: a body not arrived whole by then is refused (408)
    default_locale: str
    log_level: str
    pipeline: PipelineSettings
    spapi_quotas: dict[str, tuple[float, int]]
    metrics: MetricsSettings
    # Who imports Amazon orders into Commerce, and where each keeps the Amazon order id: Amazon Sales Channel and
    # M2E Pro, plus BRIDGE_AMAZON_PAYMENT_METHODS with BRIDGE_AMAZON_ORDER_ID_FROM
    order_importers: tuple[Importer, ...] = DEFAULT_IMPORTERS
    amazon_cancels: AmazonCancels = AmazonCancels.COMPLETE
    buyer_requests: BuyerCancelRequests = BuyerCancelRequests.FLAG
    # BRIDGE_SECRET_KEY signs the console's session cookies; unset, each host keeps one in its instance folder.
    secret_key: str = field(repr=False, default="")
    # BRIDGE_TRUSTED_PROXIES: peers whose X-Forwarded-For names the client a sign-in is counted against.
    trusted_proxies: tuple[IPNetwork, ...] = LOOPBACK
    # BRIDGE_SQS_QUEUE_URL: the SQS queue Amazon's notifications arrive in; None leaves the worker to polling.
    sqs_queue_url: str | None = None

    @property
    def secrets(self) -> list[str]:
        """Every secret value the settings hold, so that logs can redact them wherever they appear."""
        return _secrets_of(self)

    @property
    def hook_secret_header(self) -> tuple[str, str] | None:
        """The header a subscribed hook carries: the first of the shared secrets (put the one to send first)."""
        return (self.webhook_secret_header, self.webhook_secrets[0]) if self.webhook_secrets else None


def _secrets_of(settings: Settings) -> list[str]:
    auth = settings.commerce_auth
    values = [auth.access_token, auth.consumer_key, auth.consumer_secret, auth.access_token_secret]
    values += [settings.lwa_client_secret, *settings.webhook_secrets, settings.metrics.token, settings.secret_key]
    values += [store.refresh_token for store in settings.stores]
    password = make_url(settings.database_url).password
    return [value for value in [*values, str(password or "")] if value]


def normalize_database_url(url: str) -> str:
    """Accept Heroku-style ``postgres://`` and plain ``postgresql://``; drive both with psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_dotenv_file(directory: Path | None = None) -> Path | None:
    """Read ``.env`` from the working directory into the environment, which wins where both set a variable.

    Every entry point (gunicorn, the worker, every command) calls this first; returns the file read, if any.
    """
    path = (directory or Path.cwd()) / ".env"
    if not path.is_file():
        return None
    load_dotenv(path, override=False)
    return path


def home_of(env: Mapping[str, str]) -> Path:
    """Where relative paths of the settings start: ``BRIDGE_HOME``; else the source checkout the bridge runs from (the
    folder of its ``pyproject.toml``, which keeps ``config/`` and ``instance/`` beside the code); else, for an
    installed package, ``INSTALLED_HOME``. Never the working directory: every command, from wherever it is started,
    must find the same stores file and the same database."""
    if env.get("BRIDGE_HOME"):
        return Path(env["BRIDGE_HOME"]).expanduser().resolve()
    checkout = Path(__file__).resolve().parents[1]
    return checkout if (checkout / "pyproject.toml").is_file() else Path(INSTALLED_HOME).expanduser().resolve()


def resolve(home: Path, path: str | Path) -> Path:
    return (home / Path(path).expanduser()).resolve()


def _environment(environ: Mapping[str, str] | None) -> dict[str, str]:
    # Values pasted into a platform's settings often carry a stray newline; it must not reach an HTTP header.
    return {name: value.strip() for name, value in (os.environ if environ is None else environ).items()}


def _instance_path(env: Mapping[str, str], home: Path) -> Path:
    return resolve(home, env.get("BRIDGE_INSTANCE_PATH", "instance"))


def _database_url(env: Mapping[str, str], home: Path, problems: list[str]) -> str:
    raw = env.get("DATABASE_URL") or f"sqlite:///{_instance_path(env, home) / 'bridge.sqlite'}"
    database_url = normalize_database_url(raw)
    if database_url.startswith("sqlite:///") and not database_url.startswith("sqlite:////"):
        relative = database_url.removeprefix("sqlite:///")  # a relative file: from the home, like every path here
        if relative and relative != ":memory:":
            database_url = f"sqlite:///{resolve(home, relative)}"
    if not database_url.startswith(("sqlite:", "postgresql+psycopg:")):
        problems.append("DATABASE_URL: only sqlite:/// and postgres(ql):// URLs are supported")
    return database_url


def load_database_url(environ: Mapping[str, str] | None = None) -> str:
    """Just the database URL, for commands that touch nothing but the bridge's own records; ConfigError if bad."""
    env = _environment(environ)
    problems: list[str] = []
    database_url = _database_url(env, home_of(env), problems)
    if problems:
        raise ConfigError(problems)
    return database_url


def _stores_file(env: Mapping[str, str], home: Path) -> Path:
    return resolve(home, env.get("BRIDGE_STORES_FILE", "config/stores.toml"))


def load_store_codes(environ: Mapping[str, str] | None = None) -> frozenset[str]:
    """The store codes of the stores file, for commands that otherwise need only ``DATABASE_URL`` (they check a
    ``--store`` against them); none when no stores file can be read, which such commands do not need."""
    env = _environment(environ)
    stores, _ = load_stores(_stores_file(env, home_of(env)), env)  # a refresh token not set here does not matter
    return frozenset(store.code for store in stores)


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


_SQS_QUEUE_PATH = re.compile(r"/\d{12}/[A-Za-z0-9_-]{1,80}")


def _is_sqs_queue_url(value: str) -> bool:
    """A queue URL: an http(s) host (Amazon's, or a local SQS endpoint), then /ACCOUNT-ID/QUEUE-NAME."""
    parts = urlsplit(value)
    return _is_http_url(value) and not parts.query and bool(_SQS_QUEUE_PATH.fullmatch(parts.path))


_PEM_BLOCK = re.compile(r"-----BEGIN PUBLIC KEY-----.*?-----END PUBLIC KEY-----", re.DOTALL)


def _load_public_keys(env: Mapping[str, str], home: Path, problems: list[str]) -> tuple[RSAPublicKey, ...]:
    """Every public key configured, from the variable (one or more PEM blocks) and the files (comma-separated).

    Several keys verify side by side, so Commerce's "Regenerate key pair" can be followed without downtime: add the
    new key, regenerate, remove the old one.
    """
    sources: list[tuple[str, str]] = []
    if pem := env.get("COMMERCE_WEBHOOK_PUBLIC_KEY", ""):
        sources.append(("COMMERCE_WEBHOOK_PUBLIC_KEY", pem))
    for key_file in filter(None, (part.strip() for part in env.get("COMMERCE_WEBHOOK_PUBLIC_KEY_FILE", "").split(","))):
        source = f"COMMERCE_WEBHOOK_PUBLIC_KEY_FILE ({key_file})"
        try:
            sources.append((source, resolve(home, key_file).read_text(encoding="utf-8")))
        except OSError as exc:
            problems.append(f"{source}: cannot be read: {exc.strerror or exc.__class__.__name__}")
    keys: list[RSAPublicKey] = []
    for source, text in sources:
        # Keys pasted into a one-line env var often arrive with literal "\n".
        blocks = _PEM_BLOCK.findall(text.replace("\\n", "\n"))
        if not blocks:
            blocks = [text]  # not PEM at all: let the loader say so
        for block in blocks:
            try:
                key = load_pem_public_key((block.strip() + "\n").encode("ascii"))
            except (ValueError, UnicodeEncodeError):
                problems.append(
                    f"{source}: not a PEM public key (copy it from Stores > Configuration > Adobe Services > "
                    "Webhooks > Digital Signature)"
                )
                continue
            if not isinstance(key, RSAPublicKey):
                problems.append(f"{source}: must be an RSA public key, as Commerce generates")
                continue
            keys.append(key)
    return tuple(keys)


def _trusted_proxies(env: Mapping[str, str], problems: list[str]) -> tuple[IPNetwork, ...]:
    """Addresses or networks, comma-separated; unset: loopback (a proxy on the same host); empty: none."""
    raw = env.get("BRIDGE_TRUSTED_PROXIES")
    if raw is None:
        return LOOPBACK
    networks: list[IPNetwork] = []
    for part in filter(None, (part.strip() for part in raw.split(","))):
        try:
            networks.append(ip_network(part, strict=False))
        except ValueError:
            problems.append(f"BRIDGE_TRUSTED_PROXIES: {part!r} is not an IP address or network (10.0.0.7, 10.0.0.0/24)")
    return tuple(networks)


def _metrics_settings(env: Mapping[str, str], home: Path, instance_path: Path, problems: list[str]) -> MetricsSettings:
    raw_port = env.get("BRIDGE_WORKER_METRICS_PORT", "")
    port = int(raw_port) if raw_port.isascii() and raw_port.isdigit() else None
    if raw_port and not (port and 0 < port < 65536):
        problems.append("BRIDGE_WORKER_METRICS_PORT: must be a TCP port number (1-65535)")
    directory = env.get("PROMETHEUS_MULTIPROC_DIR")
    return MetricsSettings(
        directory=resolve(home, directory) if directory else instance_path / "prometheus",
        token=env.get("BRIDGE_METRICS_TOKEN", ""),
        readyz_token=env.get("BRIDGE_READYZ_TOKEN", ""),
        worker_port=port,
    )


def _order_importers(env: Mapping[str, str], problems: list[str]) -> tuple[Importer, ...]:
    """Amazon Sales Channel's and M2E Pro's orders always; another importer's where the settings describe it."""
    methods = frozenset(m.strip() for m in env.get("BRIDGE_AMAZON_PAYMENT_METHODS", "").split(",") if m.strip())
    raw_from = env.get("BRIDGE_AMAZON_ORDER_ID_FROM", "")
    where = parse_id_from(raw_from or IdFrom.PO_NUMBER.value)
    if where is None:
        problems.append(
            "BRIDGE_AMAZON_ORDER_ID_FROM: must be po_number, payment_info:KEY, increment_id, increment_id:PREFIX or "
            "ext_order_id"
        )
        return DEFAULT_IMPORTERS
    if raw_from and not methods:
        problems.append("BRIDGE_AMAZON_ORDER_ID_FROM: set BRIDGE_AMAZON_PAYMENT_METHODS too (the orders it applies to)")
    if not methods:
        return DEFAULT_IMPORTERS
    return (*DEFAULT_IMPORTERS, Importer("custom", methods, where[0], key=where[1]))


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and check every setting; raise ConfigError listing all problems at once."""
    env = _environment(environ)
    problems: list[str] = []

    home = home_of(env)
    instance_path = _instance_path(env, home)
    database_url = _database_url(env, home, problems)

    commerce_base_url = env.get("COMMERCE_BASE_URL", "").rstrip("/")
    if not commerce_base_url:
        problems.append("COMMERCE_BASE_URL: not set (e.g. https://shop.example.com)")
    elif not _is_http_url(commerce_base_url):
        problems.append("COMMERCE_BASE_URL: must be an http(s) URL")
    store_code = env.get("COMMERCE_STORE_CODE") or None

    oauth_parts = {
        name: env.get(name, "")
        for name in ("COMMERCE_CONSUMER_KEY", "COMMERCE_CONSUMER_SECRET", "COMMERCE_ACCESS_TOKEN_SECRET")
    }
    access_token = env.get("COMMERCE_ACCESS_TOKEN", "")
    if not access_token:
        problems.append("COMMERCE_ACCESS_TOKEN: not set (the integration's access token)")
    if any(oauth_parts.values()) and not all(oauth_parts.values()):
        missing = ", ".join(name for name, value in oauth_parts.items() if not value)
        problems.append(f"{missing}: OAuth 1.0a needs all of the consumer key, consumer secret and token secret")
    commerce_auth = CommerceAuth(
        access_token=access_token,
        consumer_key=oauth_parts["COMMERCE_CONSUMER_KEY"],
        consumer_secret=oauth_parts["COMMERCE_CONSUMER_SECRET"],
        access_token_secret=oauth_parts["COMMERCE_ACCESS_TOKEN_SECRET"],
    )

    public_keys = _load_public_keys(env, home, problems)
    # Several secrets, comma-separated, verify side by side while Commerce's header moves from one to the next.
    webhook_secrets = tuple(part.strip() for part in env.get("COMMERCE_WEBHOOK_SECRET", "").split(",") if part.strip())
    allow_unsigned = env.get("BRIDGE_ALLOW_UNSIGNED_WEBHOOKS", "").lower() in TRUTHY
    key_configured = bool(env.get("COMMERCE_WEBHOOK_PUBLIC_KEY") or env.get("COMMERCE_WEBHOOK_PUBLIC_KEY_FILE"))
    if not key_configured and not webhook_secrets and not allow_unsigned:
        problems.append(
            "COMMERCE_WEBHOOK_PUBLIC_KEY(_FILE) or COMMERCE_WEBHOOK_SECRET: set at least one so webhooks can be "
            "verified (BRIDGE_ALLOW_UNSIGNED_WEBHOOKS=1 turns verification off, for local development only)"
        )

    lwa_client_id = env.get("LWA_CLIENT_ID", "")
    lwa_client_secret = env.get("LWA_CLIENT_SECRET", "")
    if not lwa_client_id:
        problems.append("LWA_CLIENT_ID: not set (the SP-API application's LWA client id)")
    if not lwa_client_secret:
        problems.append("LWA_CLIENT_SECRET: not set (the SP-API application's LWA client secret)")
    lwa_token_url = env.get("LWA_TOKEN_URL") or DEFAULT_LWA_TOKEN_URL
    if not _is_http_url(lwa_token_url):
        problems.append("LWA_TOKEN_URL: must be an http(s) URL")
    spapi_endpoint = (env.get("SPAPI_ENDPOINT") or "").rstrip("/") or None
    if spapi_endpoint and not _is_http_url(spapi_endpoint):
        problems.append("SPAPI_ENDPOINT: must be an http(s) URL")
    public_url = (env.get("BRIDGE_PUBLIC_URL") or "").rstrip("/") or None
    if public_url and not _is_http_url(public_url):
        problems.append("BRIDGE_PUBLIC_URL: must be an http(s) URL (where Commerce reaches the bridge)")

    stores_file = _stores_file(env, home)
    stores, store_problems = load_stores(stores_file, env)
    problems.extend(store_problems)

    budget_raw = env.get("BRIDGE_WEBHOOK_BUDGET_MS", "2500")
    budget_ms = int(budget_raw) if budget_raw.isdigit() else 0
    if not 200 <= budget_ms <= 60000:
        problems.append("BRIDGE_WEBHOOK_BUDGET_MS: must be a whole number of milliseconds from 200 to 60000")

    body_raw = env.get("BRIDGE_REQUEST_BODY_SECONDS", "10")
    body_seconds = int(body_raw) if body_raw.isascii() and body_raw.isdigit() else 0
    if not 1 <= body_seconds <= 120:
        problems.append("BRIDGE_REQUEST_BODY_SECONDS: must be a whole number of seconds from 1 to 120")

    if env.get("BRIDGE_ON_ACCEPT", "proceed") != "proceed":
        problems.append(
            "BRIDGE_ON_ACCEPT: 'hold' is no longer offered (the bridge would cancel at Amazon an order Commerce never "
            "canceled); unset it: accepted cancels always let Commerce go on, and Amazon is told once Commerce confirms"
        )

    default_locale = env.get("BRIDGE_DEFAULT_LOCALE", DEFAULT_LOCALE)
    if default_locale not in LOCALES:
        problems.append(f"BRIDGE_DEFAULT_LOCALE: must be one of {', '.join(LOCALES)}")

    log_level = env.get("BRIDGE_LOG_LEVEL", "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        problems.append("BRIDGE_LOG_LEVEL: must be DEBUG, INFO, WARNING or ERROR")

    pipeline = _pipeline_settings(env, problems)
    spapi_quotas = _quota_overrides(env, problems)
    order_importers = _order_importers(env, problems)
    amazon_cancels = _choice(env, "BRIDGE_AMAZON_CANCELS", AmazonCancels, problems)
    buyer_requests = _choice(env, "BRIDGE_BUYER_CANCEL_REQUESTS", BuyerCancelRequests, problems)
    metrics = _metrics_settings(env, home, instance_path, problems)
    trusted_proxies = _trusted_proxies(env, problems)
    secret_key = env.get("BRIDGE_SECRET_KEY", "")
    if secret_key and len(secret_key) < MIN_SECRET_KEY_LENGTH:
        problems.append(
            f"BRIDGE_SECRET_KEY: must have at least {MIN_SECRET_KEY_LENGTH} characters (e.g. the output of "
            "'python -c \"import secrets; print(secrets.token_urlsafe(32))\"')"
        )

    sqs_queue_url = (env.get("BRIDGE_SQS_QUEUE_URL") or "").strip() or None
    if sqs_queue_url and not _is_sqs_queue_url(sqs_queue_url):
        problems.append(
            "BRIDGE_SQS_QUEUE_URL: must be the queue's URL, https://sqs.REGION.amazonaws.com/ACCOUNT/NAME (as the SQS "
            "console shows it)"
        )

    if problems:
        raise ConfigError(problems)
    return Settings(
        database_url=database_url,
        instance_path=instance_path,
        commerce_base_url=commerce_base_url,
        commerce_store_code=store_code,
        commerce_auth=commerce_auth,
        webhook_public_keys=public_keys,
        webhook_secrets=webhook_secrets,
        webhook_secret_header=env.get("COMMERCE_WEBHOOK_SECRET_HEADER") or SECRET_HEADER_DEFAULT,
        allow_unsigned_webhooks=allow_unsigned,
        lwa_client_id=lwa_client_id,
        lwa_client_secret=lwa_client_secret,
        lwa_token_url=lwa_token_url,
        spapi_endpoint=spapi_endpoint,
        public_url=public_url,
        stores=StoreDirectory(stores),
        stores_file=stores_file,
        webhook_budget_ms=budget_ms,
        request_body_seconds=body_seconds,
        default_locale=default_locale,
        log_level=log_level,
        pipeline=pipeline,
        spapi_quotas=spapi_quotas,
        order_importers=order_importers,
        amazon_cancels=amazon_cancels,
        buyer_requests=buyer_requests,
        metrics=metrics,
        secret_key=secret_key,
        trusted_proxies=trusted_proxies,
        sqs_queue_url=sqs_queue_url,
    )
