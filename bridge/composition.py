"""The one place that builds the bridge's collaborators, for web, worker and CLI alike; nothing else constructs them.

``build_storage`` needs only the database URL: it is all that the commands reading or changing the bridge's own
records use. ``build_clients`` adds the clients of Commerce and Amazon; ``build_web`` and ``build_worker`` hand
each process exactly the services and records it uses, by name.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests
from sqlalchemy import Engine

from bridge.clients.commerce import CommerceClient
from bridge.clients.commerce_transport import CommerceTransport
from bridge.clients.feeds_api import FeedsApi
from bridge.clients.lwa import LwaTokenSource
from bridge.clients.notifications_api import NotificationsApi
from bridge.clients.oauth1 import BearerToken, OAuth1HmacSha256
from bridge.clients.orders_api import OrdersApi
from bridge.clients.sellers_api import SellersApi
from bridge.clients.spapi import SpApiClient
from bridge.pipeline.notification_inbox import inbox_for
from bridge.pipeline.worker_context import WorkerContext, worker_id
from bridge.services.amazon_status import AmazonStatus
from bridge.services.cancel_intake import CancelIntake
from bridge.services.console_reads import ConsoleReads
from bridge.services.sign_in import Accounts, unknown_names_key
from bridge.settings import Settings
from bridge.storage.api_tokens import ApiTokens
from bridge.storage.buyer_cancel_notes import BuyerCancelNotes
from bridge.storage.cancel_requests import CancelRequests
from bridge.storage.engine import PATIENT, DatabaseTimeouts, make_engine
from bridge.storage.feed_records import FeedRecords
from bridge.storage.idempotency_keys import IdempotencyKeys
from bridge.storage.order_links import OrderLinks
from bridge.storage.order_list import OrderList
from bridge.storage.order_mirror import OrderMirror
from bridge.storage.order_pairs import OrderPairs
from bridge.storage.rate_limiter import RateLimiter
from bridge.storage.request_queries import RequestQueries
from bridge.storage.sign_in_failures import SignInFailures
from bridge.storage.users import Users

HTTP_POOL_SIZE = 32  # connections kept per host: web threads and write-back workers share one session


@dataclass
class Storage:
    """The bridge's own records."""

    engine: Engine
    cancel_requests: CancelRequests
    request_queries: RequestQueries
    feeds: FeedRecords
    links: OrderLinks
    mirror: OrderMirror
    pairs: OrderPairs
    buyer_notes: BuyerCancelNotes
    users: Users
    sign_in_failures: SignInFailures
    api_tokens: ApiTokens
    idempotency_keys: IdempotencyKeys


@dataclass
class Clients:
    """Commerce and Amazon, and the quotas every process shares."""

    commerce: CommerceClient
    lwa: LwaTokenSource
    limiter: RateLimiter
    orders_api: OrdersApi
    feeds_api: FeedsApi
    sellers_api: SellersApi
    notifications_api: NotificationsApi


@dataclass
class WebServices:
    """What the web app's views use: Commerce's hooks, the console, the API, health and metrics."""

    settings: Settings
    engine: Engine
    intake: CancelIntake
    console: ConsoleReads
    accounts: Accounts
    users: Users
    api_tokens: ApiTokens
    idempotency_keys: IdempotencyKeys
    cancel_requests: CancelRequests
    request_queries: RequestQueries
    mirror: OrderMirror


def build_storage(database_url: str, timeouts: DatabaseTimeouts = PATIENT) -> Storage:
    engine = make_engine(database_url, timeouts)
    return Storage(
        engine,
        CancelRequests(engine),
        RequestQueries(engine),
        FeedRecords(engine),
        OrderLinks(engine),
        OrderMirror(engine),
        OrderPairs(engine),
        BuyerCancelNotes(engine),
        Users(engine),
        SignInFailures(engine),
        ApiTokens(engine),
        IdempotencyKeys(engine),
    )


def build_accounts(storage: Storage, secret_key: str | None = None) -> Accounts:
    """``secret_key``: the web's (``BRIDGE_SECRET_KEY`` or the host's own), which keys what is kept of names no
    account has, alike in every web process; the commands, which never sign anyone in, need none."""
    return Accounts(storage.users, storage.sign_in_failures, unknown_names_key(secret_key))


def build_clients(settings: Settings, engine: Engine) -> Clients:
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=10, pool_maxsize=HTTP_POOL_SIZE)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    credentials = settings.commerce_auth
    auth = (
        OAuth1HmacSha256(
            credentials.consumer_key, credentials.consumer_secret, credentials.access_token,
            credentials.access_token_secret,
        )
        if credentials.uses_oauth1
        else BearerToken(credentials.access_token)
    )  # fmt: skip
    commerce = CommerceClient(
        CommerceTransport(settings.commerce_base_url, auth, settings.commerce_store_code, session=session)
    )
    lwa = LwaTokenSource(settings.lwa_token_url, settings.lwa_client_id, settings.lwa_client_secret, session=session)
    limiter = RateLimiter(engine, settings.spapi_quotas)
    spapi = SpApiClient(lwa, limiter, settings.spapi_endpoint, session=session)
    return Clients(
        commerce, lwa, limiter, OrdersApi(spapi), FeedsApi(spapi, session), SellersApi(spapi), NotificationsApi(spapi)
    )


def _amazon_status(settings: Settings, storage: Storage, clients: Clients) -> AmazonStatus:
    return AmazonStatus(clients.orders_api, storage.mirror, settings.pipeline.mirror_max_age_seconds)


def build_web(settings: Settings, secret_key: str, timeouts: DatabaseTimeouts = PATIENT) -> WebServices:
    storage = build_storage(settings.database_url, timeouts)
    clients = build_clients(settings, storage.engine)
    intake = CancelIntake(
        commerce=clients.commerce,
        amazon_status=_amazon_status(settings, storage, clients),
        links=storage.links,
        cancel_requests=storage.cancel_requests,
        stores=settings.stores,
        default_locale=settings.default_locale,
        commerce_confirm_seconds=settings.pipeline.commerce_confirm_seconds,
        order_importers=settings.order_importers,
    )
    console = ConsoleReads(
        stores=settings.stores,
        mirror=storage.mirror,
        order_list=OrderList(storage.engine),
        links=storage.links,
        request_queries=storage.request_queries,
        feeds=storage.feeds,
        pairs=storage.pairs,
        commerce=clients.commerce,
    )
    return WebServices(
        settings=settings,
        engine=storage.engine,
        intake=intake,
        console=console,
        accounts=build_accounts(storage, secret_key),
        users=storage.users,
        api_tokens=storage.api_tokens,
        idempotency_keys=storage.idempotency_keys,
        cancel_requests=storage.cancel_requests,
        request_queries=storage.request_queries,
        mirror=storage.mirror,
    )


def build_worker(settings: Settings, owner: str | None = None, storage: Storage | None = None) -> WorkerContext:
    storage = storage or build_storage(settings.database_url)
    clients = build_clients(settings, storage.engine)
    return WorkerContext(
        settings=settings,
        cancel_requests=storage.cancel_requests,
        request_queries=storage.request_queries,
        feeds=storage.feeds,
        links=storage.links,
        mirror=storage.mirror,
        pairs=storage.pairs,
        buyer_notes=storage.buyer_notes,
        commerce=clients.commerce,
        limiter=clients.limiter,
        orders_api=clients.orders_api,
        feeds_api=clients.feeds_api,
        amazon_status=_amazon_status(settings, storage, clients),
        owner=owner or worker_id(),
        notifications=(
            inbox_for(settings.sqs_queue_url, settings.pipeline.retry_backoff_seconds)
            if settings.sqs_queue_url
            else None
        ),
    )
