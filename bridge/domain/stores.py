"""The Amazon stores the bridge serves, and which of them owns a Commerce store view."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from bridge.domain.cancel_reasons import CancelReason

REGIONS = ("na", "eu", "fe")
# Amazon's marketplace ids and the names sellers know them by (Seller Central's list).
MARKETPLACE_NAMES = {
    "ATVPDKIKX0DER": "Amazon.com",
    "A2EUQ1WTGCTBG2": "Amazon.ca",
    "A1AM78C64UM0Y8": "Amazon.com.mx",
    "A2Q3Y263D00KWC": "Amazon.com.br",
    "A1F83G8C2ARO7P": "Amazon.co.uk",
    "A1PA6795UKMFR9": "Amazon.de",
    "A13V1IB3VIYZZH": "Amazon.fr",
    "APJ6JRA9NG5V4": "Amazon.it",
    "A1RKKUPIHCS9HS": "Amazon.es",
    "A1805IZSGTT6HS": "Amazon.nl",
    "A2NODRKZP88ZB9": "Amazon.se",
    "A1C3SOZRARQ6R3": "Amazon.pl",
    "AMEN7PMS3EDWL": "Amazon.com.be",
    "A33AVAJ2PDY3EV": "Amazon.com.tr",
    "A21TJRUUN4KGV": "Amazon.in",
    "A1VC38T7YXB528": "Amazon.co.jp",
    "A39IBJ37TRP1C6": "Amazon.com.au",
    "A19VAU5U5O7RUS": "Amazon.sg",
    "A2VIGQ35RCS4UG": "Amazon.ae",
    "A17E79C6D8DWNP": "Amazon.sa",
}


def marketplace_name(marketplace_id: str) -> str:
    return MARKETPLACE_NAMES.get(marketplace_id, marketplace_id)


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
