"""What Amazon says of an order: from the shared mirror while it is fresh, else read live and remembered.

The webhook and the worker both ask through here, so an order read live by one is known to the other.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from bridge.clients.orders_api import OrdersApi
from bridge.deadline import Deadline
from bridge.domain.amazon_order import AmazonOrder
from bridge.domain.stores import Store
from bridge.storage.order_mirror import MirrorLookup, OrderMirror

log = logging.getLogger(__name__)


class AmazonStatus:
    def __init__(
        self, orders_api: OrdersApi, mirror: OrderMirror, max_age: float, clock: Callable[[], float] = time.time
    ) -> None:
        self._orders_api = orders_api
        self._mirror = mirror
        self._max_age = max_age  # 0: the mirror is off
        self._clock = clock

    @property
    def mirror_enabled(self) -> bool:
        return self._max_age > 0

    def fresh_or_live(
        self, store: Store, amazon_order_id: str, deadline: Deadline, seen: MirrorLookup | None = None
    ) -> AmazonOrder:
        """From the mirror while it holds every change of the store up to ``max_age`` ago (no quota spent).

        ``seen``: what the caller read of the mirror already, for this store and order (the before hook reads it
        together with the order's request and link), so that the mirror is not asked again."""
        if self.mirror_enabled:
            if seen is None or not seen.is_of(store.code, store.marketplace_id, amazon_order_id):
                seen = self._mirror.lookup(store.code, store.marketplace_id, amazon_order_id)
            mirrored = seen.fresh(self._clock(), self._max_age)
            if mirrored is not None:
                return mirrored
        return self.live(store, amazon_order_id, deadline)

    def live(self, store: Store, amazon_order_id: str, deadline: Deadline) -> AmazonOrder:
        """One order straight from Amazon (getOrder), remembered in the mirror for everyone else."""
        seen_at = self._clock()
        order = self._orders_api.get_order(store, amazon_order_id, deadline)
        try:
            self._mirror.record(store.code, [order], seen_at=seen_at)
        except SQLAlchemyError as exc:  # the mirror is a cache: the answer stands without it
            log.warning("could not remember %s in the mirror: %s", amazon_order_id, exc.__class__.__name__)
        return order
