"""Wires settings, database, clients and the cancel intake together, once per app (``init_app``)."""

from __future__ import annotations

from dataclasses import dataclass

import requests
from flask import Flask, current_app
from sqlalchemy import Engine

from bridge.cancel_intake import CancelIntake
from bridge.cancel_requests import CancelRequests
from bridge.clients.commerce import CommerceClient
from bridge.clients.lwa import LwaTokenSource
from bridge.clients.spapi import SpApiClient
from bridge.clients.spapi_feeds import FeedsApi
from bridge.clients.spapi_orders import OrdersApi
from bridge.config import Settings
from bridge.database import make_engine
from bridge.feeds import Feeds
from bridge.order_links import OrderLinks
from bridge.order_mirror import OrderMirror
from bridge.rate_limit import RateLimiter

EXTENSION_KEY = "bridge"


@dataclass
class Services:
    settings: Settings
    engine: Engine
    commerce: CommerceClient
    lwa: LwaTokenSource
    limiter: RateLimiter
    orders: OrdersApi
    feeds: FeedsApi
    cancel_requests: CancelRequests
    feed_records: Feeds
    order_links: OrderLinks
    mirror: OrderMirror
    intake: CancelIntake


def build_services(settings: Settings) -> Services:
    """Everything that talks to the outside, built from settings; shared by the web app and the CLI."""
    engine = make_engine(settings.database_url)
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=10, pool_maxsize=32)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    commerce = CommerceClient(
        settings.commerce_base_url, settings.commerce_auth, settings.commerce_store_code, session=session
    )
    lwa = LwaTokenSource(settings.lwa_token_url, settings.lwa_client_id, settings.lwa_client_secret, session=session)
    limiter = RateLimiter(engine, settings.spapi_quotas)
    spapi = SpApiClient(lwa, limiter, settings.spapi_endpoint, session=session)
    orders = OrdersApi(spapi)
    feeds = FeedsApi(spapi, session)
    cancel_requests = CancelRequests(engine)
    order_links = OrderLinks(engine)
    mirror = OrderMirror(engine)
    intake = CancelIntake(
        commerce=commerce,
        orders=orders,
        links=order_links,
        requests=cancel_requests,
        mirror=mirror,
        mirror_max_age=settings.pipeline.mirror_max_age_seconds,
        stores=settings.stores,
        on_accept=settings.on_accept,
        default_locale=settings.default_locale,
    )
    return Services(
        settings,
        engine,
        commerce,
        lwa,
        limiter,
        orders,
        feeds,
        cancel_requests,
        Feeds(engine),
        order_links,
        mirror,
        intake,
    )


def init_app(app: Flask, settings: Settings) -> None:
    app.extensions[EXTENSION_KEY] = build_services(settings)


def services_of(app: Flask) -> Services:
    return app.extensions[EXTENSION_KEY]


def services() -> Services:
    """The current app's services, inside a request."""
    return services_of(current_app)
