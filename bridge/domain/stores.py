"""The Amazon stores the bridge serves, and which of them owns a Commerce store view."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from bridge.domain.cancel_reasons import CancelReason

REGIONS = ("na", "eu", "fe")


@dataclass(frozen=True)
class Store:
    """One Amazon seller account in one marketplace, and the Commerce store views whose orders it owns."""

    code: str
    commerce_store_ids: tuple[int, ...]
    seller_id: str
    marketplace_id: str
    region: str
    refresh_token_env: str
    order_import: bool
    default_cancel_reason: CancelReason
    locale: str
    refresh_token: str = field(repr=False, default="")


class StoreDirectory:
    """Finds the Amazon store that owns a Commerce store view."""

    def __init__(self, stores: list[Store]) -> None:
        self._stores = list(stores)
        self._by_commerce_store_id = {sid: s for s in stores for sid in s.commerce_store_ids}

    def __iter__(self) -> Iterator[Store]:
        return iter(self._stores)

    def for_commerce_store(self, commerce_store_id: int | None) -> Store | None:
        """The store set up for this Commerce store id, or None when the bridge does not know it."""
        if commerce_store_id is None:
            return None
        return self._by_commerce_store_id.get(commerce_store_id)

    def by_code(self, code: str) -> Store | None:
        return next((store for store in self._stores if store.code == code), None)
