"""The one place that builds the bridge's collaborators, under one set of names, for web, worker and CLI alike.

``build_storage`` needs only the database URL: it is all that the commands reading or changing the bridge's own
records use. ``build_bridge`` adds the clients of Commerce and Amazon and the cancel intake, from full settings.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests
from sqlalchemy import Engine

from bridge.amazon_status import AmazonStatus
from bridge.cancel_intake import CancelIntake
from bridge.clients.commerce import CommerceClient
from bridge.clients.commerce_transport import CommerceTransport, commerce_auth
from bridge.clients.feeds_api import FeedsApi
from bridge.clients.lwa import LwaTokenSource
from bridge.clients.orders_api import OrdersApi
from bridge.clients.sellers_api import SellersApi
from bridge.clients.spapi import SpApiClient
from bridge.settings import Settings
from bridge.storage.api_tokens import ApiTokens
from bridge.storage.buyer_cancel_notes import BuyerCancelNotes
from bridge.storage.cancel_requests import CancelRequests
from bridge.storage.engine import PATIENT, DatabaseTimeouts, make_engine
from bridge.storage.feed_records import FeedRecords
from bridge.storage.idempotency_keys import IdempotencyKeys
from bridge.storage.order_links import OrderLinks
from bridge.storage.order_mirror import OrderMirror
from bridge.storage.order_pairs import OrderPairs
from bridge.storage.rate_limiter import RateLimiter
from bridge.storage.request_queries import RequestQueries
from bridge.storage.users import SignInFailures, Users

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
class Bridge(Storage):
    """Everything the web app and the worker use: the records, the clients and the cancel intake."""

    settings: Settings
    limiter: RateLimiter
    commerce: CommerceClient
    lwa: LwaTokenSource
    orders_api: OrdersApi
    feeds_api: FeedsApi
    sellers_api: SellersApi
    amazon_status: AmazonStatus
    intake: CancelIntake


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


def build_bridge(settings: Settings, timeouts: DatabaseTimeouts = PATIENT) -> Bridge:
    storage = build_storage(settings.database_url, timeouts)
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=10, pool_maxsize=HTTP_POOL_SIZE)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    credentials = settings.commerce_auth
    auth = commerce_auth(
        credentials.access_token, credentials.consumer_key, credentials.consumer_secret, credentials.access_token_secret
    )
    commerce = CommerceClient(
        CommerceTransport(settings.commerce_base_url, auth, settings.commerce_store_code, session=session)
    )
    lwa = LwaTokenSource(settings.lwa_token_url, settings.lwa_client_id, settings.lwa_client_secret, session=session)
    limiter = RateLimiter(storage.engine, settings.spapi_quotas)
    spapi = SpApiClient(lwa, limiter, settings.spapi_endpoint, session=session)
    orders_api = OrdersApi(spapi)
    amazon_status = AmazonStatus(orders_api, storage.mirror, settings.pipeline.mirror_max_age_seconds)
    intake = CancelIntake(
        commerce=commerce,
        amazon_status=amazon_status,
        links=storage.links,
        requests=storage.cancel_requests,
        stores=settings.stores,
        default_locale=settings.default_locale,
        commerce_confirm_seconds=settings.pipeline.commerce_confirm_seconds,
        amazon_payment_methods=settings.amazon_payment_methods,
    )
    return Bridge(
        **vars(storage),
        settings=settings,
        limiter=limiter,
        commerce=commerce,
        lwa=lwa,
        orders_api=orders_api,
        feeds_api=FeedsApi(spapi, session),
        sellers_api=SellersApi(spapi),
        amazon_status=amazon_status,
        intake=intake,
    )
